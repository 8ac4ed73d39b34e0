"""Hand work to Celery by the task's registered name.

A service never imports its app's `tasks.py` (which imports the service back): it names the
task, and Celery's registry finds it. Going through the task object rather than `send_task`
keeps the task's own options and `task_always_eager` working.
"""

from __future__ import annotations

from celery import Task, current_app


def task_named(name: str) -> Task:
    """The registered task called `name` (e.g. "notifications.deliver"); NotRegistered if none is.

    The worker imports every app's tasks module when it starts; a web process has not, so the
    first lookup there runs the same autodiscovery.
    """
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]
