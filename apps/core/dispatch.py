"""Hand work to Celery by the task's registered name.

A service never imports its app's `tasks.py` (which imports the service back): it names the
task, and Celery's registry (filled by autodiscovery, in the worker and in the web process alike)
finds it. Going through the task object rather than `send_task` keeps its own options and
`task_always_eager` working.
"""

from __future__ import annotations

from celery import Task, current_app


def task_named(name: str) -> Task:
    """The registered task called `name` (e.g. "notifications.deliver"); KeyError if none is."""
    return current_app.tasks[name]
