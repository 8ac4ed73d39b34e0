"""Create the four FinPulse roles as groups. Their permissions are synced after every
migrate from apps/identity/roles.py, so later apps are covered too."""

from django.db import migrations

ROLES = ("Relationship manager", "Branch manager", "Compliance officer", "Administrator")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
