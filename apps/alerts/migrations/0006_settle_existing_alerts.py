"""Data: alerts raised before digests were notified when raised; mark them settled."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0005_alert_settlement"),
    ]

    operations = [
        migrations.RunSQL(
            "UPDATE alerts_alert SET notified_at = created_at WHERE notified_at IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
