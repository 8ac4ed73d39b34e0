"""Schema: an alert's title and when its work was written (null: not yet), for digests."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("alerts", "0004_backfill_alert_urgency"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alert",
            name="title",
            field=models.CharField(blank=True, max_length=200),
        ),
        AddIndexConcurrently(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("notified_at__isnull", True)), fields=["manager"], name="alert_unsettled_idx"
            ),
        ),
    ]
