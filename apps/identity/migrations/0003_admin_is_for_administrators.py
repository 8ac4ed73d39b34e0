"""Django admin is for administrators only (docs/decisions.md 37): existing accounts of
relationship managers, branch managers and compliance officers lose is_staff now, not at
their next SSO sign-in. The rule is apps.identity.roles.is_staff_for, copied here because a
migration must not import the code it outlives."""

from django.db import migrations

ADMINISTRATOR = "Administrator"


def staff_is_administrators_only(apps, schema_editor):
    User = apps.get_model("identity", "User")
    User.objects.filter(is_staff=True, is_superuser=False).exclude(groups__name=ADMINISTRATOR).update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_create_roles")]

    operations = [migrations.RunPython(staff_is_administrators_only, migrations.RunPython.noop)]
