"""Data: deadlines and amounts of existing alerts, from what each rule recorded in its details."""

from django.db import migrations

FORWARD = [
    "UPDATE alerts_alert SET due_on = (details->>'maturity_date')::date"
    " WHERE rule = 'maturity' AND details ? 'maturity_date' AND due_on IS NULL",
    "UPDATE alerts_alert SET due_on = (details->>'expiry_date')::date"
    " WHERE rule = 'document_expiry' AND details ? 'expiry_date' AND due_on IS NULL",
    "UPDATE alerts_alert SET due_on = (details->>'kyc_review_date')::date"
    " WHERE rule = 'kyc_review' AND details ? 'kyc_review_date' AND due_on IS NULL",
    "UPDATE alerts_alert SET due_on = fires_on WHERE rule = 'relationship' AND due_on IS NULL",
    "UPDATE alerts_alert SET due_on = fires_on - threshold WHERE rule = 'task_escalation' AND due_on IS NULL",
    "UPDATE alerts_alert AS a SET amount = abs(h.balance) FROM accounts_holding AS h"
    " WHERE a.object_type = 'accounts.holding' AND h.id = a.object_id AND a.amount IS NULL",
]


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0003_alert_urgency"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunSQL(sql, reverse_sql=migrations.RunSQL.noop) for sql in FORWARD]
