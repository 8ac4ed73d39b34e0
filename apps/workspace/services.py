"""Writes of the manager's cockpit: the audit record of a report export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.core.audit import record_audit_event

if TYPE_CHECKING:
    from apps.identity.models import User


@transaction.atomic
def record_report_export(*, actor: User, report: str, filters: Mapping[str, Any], rows: int) -> None:
    """A report leaves the bank's systems as a file: who, which report, which options, how many
    rows, recorded before the first byte is sent (as the customer export does). The report
    holds aggregates and managers' names, no customer's personal data, so no reason is asked."""
    record_audit_event(
        actor=actor,
        action="report.exported",
        metadata={"report": report, "filters": dict(filters), "rows": rows},
    )
