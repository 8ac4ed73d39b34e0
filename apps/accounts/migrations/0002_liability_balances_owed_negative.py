"""Loans and cards stored as positive amounts owed become negative (signed balances, decisions.md).

Before the sign convention some writers (tests, hand-made rows) stored what a customer owes as a
positive balance, while the demo and the core banking files stored it negative, so the 360 page
added debts to the net. This flips the positive ones before 0003 adds the constraint that holds
the convention. The reverse leaves the rows as they are: the old schema accepts either sign, and
which rows were positive before is not recorded (flipping every liability back would be wrong for
the ones that were already negative).
"""

from django.db import migrations
from django.db.models import F

LIABILITY_CATEGORIES = ("loan", "credit_card")


def owed_is_negative(apps, schema_editor):
    Holding = apps.get_model("accounts", "Holding")
    Holding.objects.filter(category__in=LIABILITY_CATEGORIES, balance__gt=0).update(balance=-F("balance"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(owed_is_negative, migrations.RunPython.noop),
    ]
