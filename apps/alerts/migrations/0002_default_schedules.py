"""Data: beat's default alert scan, every 15 minutes (admins change it in Django admin)."""

from django.db import migrations

SCAN_TASK = "alerts.run_scans"
SCAN_NAME = "Alert scans (maturities, follow-ups, KYC, documents, cadence)"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SCAN_NAME,
        defaults={"task": SCAN_TASK, "interval": every, "enabled": True, "description": "docs/operations.md"},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCAN_NAME, task=SCAN_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
