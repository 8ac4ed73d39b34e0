"""The task's field lists, declared once: the admin, the API and the task list build on them."""

from __future__ import annotations

# Who the task is about and who owns it.
OWNER_FIELDS = ("customer", "assignee")
# What a person writes on a task and may change while it is open.
WORK_FIELDS = ("title", "description", "due_at", "reminder_at", "priority")
# Why the task is on the list: the kind of source and the rule that raised it.
ORIGIN_FIELDS = ("source", "source_rule")
# When it was done, created and last changed: written by the services, never typed in.
STAMP_FIELDS = ("completed_at", "created_at", "updated_at")
# What the services record and nobody edits: the origin, the object that raised it, the author.
RECORD_FIELDS = (*ORIGIN_FIELDS, "source_object", "created_by", *STAMP_FIELDS)
# The columns a row of the task list shows (its `.only()`, with the customer's name and number).
ROW_FIELDS = ("id", "title", "due_at", "reminder_at", "priority", "status", *ORIGIN_FIELDS, "assignee_id")
