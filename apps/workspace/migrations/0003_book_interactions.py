"""A manager's customers' interactions in the book dates (decision 176), kept by a trigger.

One row per interaction (`i`), filed under its customer's primary manager with its time in
`moment`: the dashboard's recent interactions of a manager's own customers are then one range of
`bookdate_interaction_idx`, newest first. The customers' trigger of migration 0002 already moves
every row of a customer (this kind too) when its primary manager changes, and names the manager
on rows written before the customer. The rows are filled from the table in the same transaction,
after the trigger exists, and the index is built after the fill.
"""

from django.db import migrations, models

TRIGGER = """
CREATE FUNCTION workspace_bookdate_interaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.customer_id = OLD.customer_id
            AND NEW.occurred_at IS NOT DISTINCT FROM OLD.occurred_at THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM workspace_bookdate WHERE ref_id = OLD.id AND kind = 'i';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state, moment)
        VALUES ((SELECT c.primary_manager_id FROM customers_customer c WHERE c.id = NEW.customer_id),
                NEW.customer_id, 'i', NULL, NEW.id, '', NEW.occurred_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workspace_bookdate_interaction AFTER INSERT OR UPDATE OR DELETE ON interactions_interaction
FOR EACH ROW EXECUTE FUNCTION workspace_bookdate_interaction();

INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state, moment)
SELECT c.primary_manager_id, i.customer_id, 'i', NULL, i.id, '', i.occurred_at
FROM interactions_interaction i LEFT JOIN customers_customer c ON c.id = i.customer_id;
"""

DROP = """
DROP TRIGGER workspace_bookdate_interaction ON interactions_interaction;
DROP FUNCTION workspace_bookdate_interaction();
DELETE FROM workspace_bookdate WHERE kind = 'i';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0002_book_dates"),
        ("interactions", "0005_customer_index_carries_rule_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="bookdate",
            name="moment",
            field=models.DateTimeField(null=True),
        ),
        migrations.AlterField(
            model_name="bookdate",
            name="kind",
            field=models.CharField(
                choices=[
                    ("k", "Customer (KYC review)"),
                    ("d", "Identity document expiry"),
                    ("m", "Holding maturity (one row per party)"),
                    ("i", "Interaction (its time in `moment`)"),
                ],
                max_length=1,
            ),
        ),
        migrations.RunSQL(TRIGGER, DROP),
        migrations.AddIndex(
            model_name="bookdate",
            index=models.Index(
                condition=models.Q(("kind", "i")),
                fields=["manager_id", "moment", "ref_id"],
                name="bookdate_interaction_idx",
            ),
        ),
    ]
