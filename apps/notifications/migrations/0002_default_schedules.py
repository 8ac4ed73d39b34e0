"""Data: beat's notification relay, every minute (re-dispatches what is still pending)."""

from django.db import migrations

RELAY_TASK = "notifications.relay"
RELAY_NAME = "Notification relay (re-dispatch pending outbox rows)"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=RELAY_NAME,
        defaults={"task": RELAY_TASK, "interval": every, "enabled": True, "description": "docs/operations.md"},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=RELAY_NAME, task=RELAY_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
