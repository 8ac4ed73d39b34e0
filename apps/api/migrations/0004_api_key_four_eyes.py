"""API keys need a second administrator's approval (decision 109). Keys issued before this rule
were issued under the old one: they count as approved when they were created, so no running
integration stops on deploy."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def approve_existing_keys(apps, schema_editor):
    ApiKey = apps.get_model("api", "ApiKey")
    ApiKey.objects.filter(approved_at__isnull=True).update(approved_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_add_opportunity_scopes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="approved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apikey",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(approve_existing_keys, migrations.RunPython.noop),
    ]
