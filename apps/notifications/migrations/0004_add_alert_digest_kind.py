"""Schema: the alert digest kind (one message per channel for a first scan or a backlog)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_add_lead_assigned_kind"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("maturity", "Holding maturing"),
                    ("document_expiry", "Identity document expiring"),
                    ("kyc_review", "KYC review due"),
                    ("relationship", "Overdue relationship"),
                    ("task_reminder", "Follow-up reminder"),
                    ("task_due_soon", "Follow-up due soon"),
                    ("task_overdue", "Follow-up overdue"),
                    ("task_escalation", "Long-overdue follow-up (escalation)"),
                    ("lead_assigned", "New lead assigned"),
                    ("customer_maturity", "Maturity notice to the customer"),
                    ("alert_digest", "Digest of new alerts (first scan or a backlog)"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="notificationpreference",
            name="kind",
            field=models.CharField(
                choices=[
                    ("maturity", "Holding maturing"),
                    ("document_expiry", "Identity document expiring"),
                    ("kyc_review", "KYC review due"),
                    ("relationship", "Overdue relationship"),
                    ("task_reminder", "Follow-up reminder"),
                    ("task_due_soon", "Follow-up due soon"),
                    ("task_overdue", "Follow-up overdue"),
                    ("task_escalation", "Long-overdue follow-up (escalation)"),
                    ("lead_assigned", "New lead assigned"),
                    ("customer_maturity", "Maturity notice to the customer"),
                    ("alert_digest", "Digest of new alerts (first scan or a backlog)"),
                ],
                max_length=20,
            ),
        ),
    ]
