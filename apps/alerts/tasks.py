"""Celery tasks for alerts: thin; the scans are idempotent and lock against each other."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.alerts.scans import run_scans


@shared_task(name="alerts.run_scans", acks_late=True, ignore_result=True)
def run_alert_scans_task() -> dict[str, Any]:
    """Beat's scan tick: every rule for the business date (a second run creates nothing)."""
    return run_scans().as_dict()
