"""Schema: tasks can come from several alerts on one customer (a backlog grouped per customer)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="task",
            name="source",
            field=models.CharField(
                choices=[
                    ("manual", "Created by a person"),
                    ("maturity", "Maturity alert"),
                    ("document_expiry", "Identity document expiring"),
                    ("kyc_review", "KYC review due"),
                    ("relationship", "Relationship cadence"),
                    ("lead", "Lead follow-up"),
                    ("import", "Imported"),
                    ("alerts", "Several alerts on one customer"),
                ],
                default="manual",
                max_length=16,
            ),
        ),
    ]
