"""The dashboard's book dates (decision 164), kept by triggers on the tables they copy.

Each trigger rewrites only the rows of what it changed: a document's row, a holding's party rows
(when the maturity date moves or a party comes or goes), a customer's KYC row, and every row of a
customer whose primary manager changes. A row is written whether or not its customer exists yet
(foreign keys are checked at commit), and a customer's insert then names the manager on the rows
written before it. The rows are filled from the tables in the same transaction, after the triggers
exist, while the triggers' creation holds the tables against writes.
"""

from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION workspace_bookdate_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM workspace_bookdate WHERE customer_id = OLD.id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.id <> OLD.id THEN
        DELETE FROM workspace_bookdate WHERE customer_id = OLD.id;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.id <> OLD.id THEN
        UPDATE workspace_bookdate SET manager_id = NEW.primary_manager_id WHERE customer_id = NEW.id;
        INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
        VALUES (NEW.primary_manager_id, NEW.id, 'k', NEW.kyc_review_date, NEW.id, NEW.kyc_status);
        RETURN NULL;
    END IF;
    IF NEW.primary_manager_id IS DISTINCT FROM OLD.primary_manager_id THEN
        UPDATE workspace_bookdate SET manager_id = NEW.primary_manager_id WHERE customer_id = NEW.id;
    END IF;
    IF NEW.kyc_review_date IS DISTINCT FROM OLD.kyc_review_date OR NEW.kyc_status IS DISTINCT FROM OLD.kyc_status THEN
        UPDATE workspace_bookdate SET day = NEW.kyc_review_date, state = NEW.kyc_status
        WHERE customer_id = NEW.id AND kind = 'k';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workspace_bookdate_customer AFTER INSERT OR UPDATE OR DELETE ON customers_customer
FOR EACH ROW EXECUTE FUNCTION workspace_bookdate_customer();

CREATE FUNCTION workspace_bookdate_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.customer_id = OLD.customer_id
            AND NEW.expiry_date IS NOT DISTINCT FROM OLD.expiry_date THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM workspace_bookdate WHERE ref_id = OLD.id AND kind = 'd';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.expiry_date IS NOT NULL THEN
        INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
        VALUES ((SELECT c.primary_manager_id FROM customers_customer c WHERE c.id = NEW.customer_id),
                NEW.customer_id, 'd', NEW.expiry_date, NEW.id, '');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workspace_bookdate_document AFTER INSERT OR UPDATE OR DELETE ON customers_identitydocument
FOR EACH ROW EXECUTE FUNCTION workspace_bookdate_document();

CREATE FUNCTION workspace_bookdate_holding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.maturity_date IS NOT DISTINCT FROM OLD.maturity_date THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM workspace_bookdate WHERE ref_id = OLD.id AND kind = 'm';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.maturity_date IS NOT NULL THEN
        INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
        SELECT c.primary_manager_id, p.customer_id, 'm', NEW.maturity_date, NEW.id, ''
        FROM accounts_holdingparty p LEFT JOIN customers_customer c ON c.id = p.customer_id
        WHERE p.holding_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workspace_bookdate_holding AFTER INSERT OR UPDATE OR DELETE ON accounts_holding
FOR EACH ROW EXECUTE FUNCTION workspace_bookdate_holding();

CREATE FUNCTION workspace_bookdate_party() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.holding_id = OLD.holding_id AND NEW.customer_id = OLD.customer_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM workspace_bookdate
        WHERE ref_id = OLD.holding_id AND kind = 'm' AND customer_id = OLD.customer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
        SELECT (SELECT c.primary_manager_id FROM customers_customer c WHERE c.id = NEW.customer_id),
               NEW.customer_id, 'm', h.maturity_date, h.id, ''
        FROM accounts_holding h WHERE h.id = NEW.holding_id AND h.maturity_date IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workspace_bookdate_party AFTER INSERT OR UPDATE OR DELETE ON accounts_holdingparty
FOR EACH ROW EXECUTE FUNCTION workspace_bookdate_party();

INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
SELECT primary_manager_id, id, 'k', kyc_review_date, id, kyc_status FROM customers_customer;

INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
SELECT c.primary_manager_id, d.customer_id, 'd', d.expiry_date, d.id, ''
FROM customers_identitydocument d LEFT JOIN customers_customer c ON c.id = d.customer_id
WHERE d.expiry_date IS NOT NULL;

INSERT INTO workspace_bookdate (manager_id, customer_id, kind, day, ref_id, state)
SELECT c.primary_manager_id, p.customer_id, 'm', h.maturity_date, h.id, ''
FROM accounts_holdingparty p JOIN accounts_holding h ON h.id = p.holding_id
LEFT JOIN customers_customer c ON c.id = p.customer_id
WHERE h.maturity_date IS NOT NULL;
"""

DROP = """
DROP TRIGGER workspace_bookdate_party ON accounts_holdingparty;
DROP TRIGGER workspace_bookdate_holding ON accounts_holding;
DROP TRIGGER workspace_bookdate_document ON customers_identitydocument;
DROP TRIGGER workspace_bookdate_customer ON customers_customer;
DROP FUNCTION workspace_bookdate_party();
DROP FUNCTION workspace_bookdate_holding();
DROP FUNCTION workspace_bookdate_document();
DROP FUNCTION workspace_bookdate_customer();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("workspace", "0001_add_saved_view"),
        ("customers", "0007_add_data_key_and_erasure_state"),
        ("accounts", "0005_holding_party_customer_index_carries_role"),
    ]

    operations = [
        migrations.CreateModel(
            name="BookDate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("manager_id", models.BigIntegerField(null=True)),
                ("customer_id", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("k", "Customer (KYC review)"),
                            ("d", "Identity document expiry"),
                            ("m", "Holding maturity (one row per party)"),
                        ],
                        max_length=1,
                    ),
                ),
                ("day", models.DateField(null=True)),
                ("ref_id", models.BigIntegerField()),
                ("state", models.CharField(blank=True, default="", max_length=12)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["manager_id", "kind", "day", "ref_id"],
                        include=("customer_id", "state"),
                        name="bookdate_manager_idx",
                    ),
                    models.Index(fields=["customer_id", "kind"], name="bookdate_customer_idx"),
                    models.Index(fields=["ref_id", "kind"], name="bookdate_ref_idx"),
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP),
    ]
