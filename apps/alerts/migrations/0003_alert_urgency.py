"""Schema: each alert's deadline and amount, for the list's urgency order (index built concurrently)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("alerts", "0002_default_schedules"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="amount",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name="alert",
            name="due_on",
            field=models.DateField(blank=True, help_text="The deadline the alert is about.", null=True),
        ),
        AddIndexConcurrently(
            model_name="alert",
            index=models.Index(fields=["manager", "status", "due_on"], name="alert_manager_urgency_idx"),
        ),
    ]
