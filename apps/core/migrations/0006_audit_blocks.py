"""Audit events are sealed in blocks (issue 19): txid column, blocks table, no global chain."""

import django.contrib.postgres.fields
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

import apps.core.models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_add_data_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("index", models.PositiveBigIntegerField(unique=True)),
                ("sealed_at", models.DateTimeField()),
                ("first_txid", models.BigIntegerField()),
                ("first_event", models.BigIntegerField()),
                ("last_txid", models.BigIntegerField()),
                ("last_event", models.BigIntegerField()),
                ("event_count", models.PositiveIntegerField()),
                (
                    "event_ids",
                    django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None),
                ),
                ("leaves", models.BinaryField()),
                ("merkle_root", models.CharField(max_length=64)),
                ("prev_seal", models.CharField(max_length=64)),
                ("seal", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["index"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_unique_hash",
        ),
        # Events written before blocks get txid 0 (a constant default fills the existing rows
        # without rewriting them or firing the append-only trigger), so the sealer takes them
        # first, in id order; new rows get their writing transaction's id.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        "ALTER TABLE core_auditevent ADD COLUMN txid xid8 NOT NULL DEFAULT '0'",
                        "ALTER TABLE core_auditevent ALTER COLUMN txid SET DEFAULT pg_current_xact_id()",
                    ],
                    reverse_sql=["ALTER TABLE core_auditevent DROP COLUMN txid"],
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="auditevent",
                    name="txid",
                    field=apps.core.models.TransactionIdField(
                        db_default=apps.core.models.CurrentTransactionId(), editable=False
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["txid", "id"], name="audit_seal_order_idx"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditblock",
            trigger=pgtrigger.compiler.Trigger(
                name="audit_block_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="b216b940cd994b4947c986c1a496ee253fbab1ea",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_audit_block_append_only_426d0",
                    table="core_auditblock",
                    when="BEFORE",
                ),
            ),
        ),
    ]
