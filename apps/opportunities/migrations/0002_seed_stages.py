"""The bank's starting stages (admin-editable afterwards): four open ones, then won and lost."""

from django.db import migrations

STAGES = [
    ("Prospecting", 10, 10, False, False),
    ("Qualified", 20, 25, False, False),
    ("Proposal", 30, 50, False, False),
    ("Negotiation", 40, 75, False, False),
    ("Won", 90, 100, True, False),
    ("Lost", 100, 0, False, True),
]


def seed(apps, schema_editor):
    Stage = apps.get_model("opportunities", "Stage")
    for name, position, probability, is_won, is_lost in STAGES:
        Stage.objects.get_or_create(
            name=name,
            defaults={
                "position": position,
                "default_probability": probability,
                "is_won": is_won,
                "is_lost": is_lost,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
