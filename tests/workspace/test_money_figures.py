"""Every held / owed / net figure a manager or an integration reads, against sums done by hand.

Ann owns a current account, a loan, a card and a euro saver, holds a term deposit jointly with
her husband Ben, is beneficiary of Carl's savings and holds his power of attorney over a loan;
Ben owns an investment and an overdrawn account. By hand (GBP):
  Ann:       held 2,500.00 + 40,000.00 = 42,500.00;  owed 12,000.00 + 604.50 = 12,604.50;  net 29,895.50
             (EUR: held 1,000.00, owed 0, net 1,000.00); Carl's 9,999.00 and -5,000.00 are not hers.
  Ben:       held 40,000.00 + 20,000.00 = 60,000.00; owed 300.00; net 59,700.00
  Household: held 2,500.00 + 40,000.00 (once) + 20,000.00 = 62,500.00;
             owed 12,000.00 + 604.50 + 300.00 = 12,904.50; net 49,595.50
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.models import Holding, HoldingParty
from apps.customers.models import CustomerRelationship
from apps.customers.services import link_customers
from tests.accounts.factories import HoldingFactory
from tests.api.conftest import issue_key, key_client
from tests.customers.factories import CustomerFactory
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")
D = Decimal
R = HoldingParty.Role
C = Holding.Category
NBSP = "\u00a0"


@pytest.fixture
def book(manager, other_manager):  # type: ignore[no-untyped-def]
    ann = CustomerFactory(assigned_to=manager, first_name="Ann", last_name="Ashby")
    ben = CustomerFactory(assigned_to=manager, first_name="Ben", last_name="Ashby")
    carl = CustomerFactory(assigned_to=other_manager, first_name="Carl", last_name="Cole")
    link_customers(actor=None, from_customer=ann, to_customer=ben, kind=CustomerRelationship.Kind.SPOUSE)
    HoldingFactory(customer=ann, category=C.CURRENT_ACCOUNT, balance=D("2500.00"))
    HoldingFactory(parties={ann: R.OWNER, ben: R.JOINT}, category=C.TERM_DEPOSIT, balance=D("40000.00"))
    HoldingFactory(customer=ann, category=C.LOAN, balance=D("-12000.00"), rate=D("6.5000"))
    HoldingFactory(customer=ann, category=C.CREDIT_CARD, balance=D("-604.50"))
    HoldingFactory(customer=ann, category=C.SAVINGS_ACCOUNT, balance=D("1000.00"), currency="EUR")
    HoldingFactory(customer=ann, category=C.SAVINGS_ACCOUNT, balance=D("777.00"), status=Holding.Status.CLOSED)
    HoldingFactory(parties={carl: R.OWNER, ann: R.BENEFICIARY}, category=C.SAVINGS_ACCOUNT, balance=D("9999.00"))
    HoldingFactory(parties={carl: R.OWNER, ann: R.POWER_OF_ATTORNEY}, category=C.LOAN, balance=D("-5000.00"))
    HoldingFactory(customer=ben, category=C.INVESTMENT, balance=D("20000.00"))
    HoldingFactory(customer=ben, category=C.CURRENT_ACCOUNT, balance=D("-300.00"))
    return ann, ben


ANN = {"EUR": ("1000.00", "0.00", "1000.00"), "GBP": ("42500.00", "12604.50", "29895.50")}
BEN = {"GBP": ("60000.00", "300.00", "59700.00")}
HOUSEHOLD = {"EUR": ("1000.00", "0.00", "1000.00"), "GBP": ("62500.00", "12904.50", "49595.50")}


def figures(positions) -> dict[str, tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {p.currency: (f"{p.held:.2f}", f"{p.owed:.2f}", f"{p.net:.2f}") for p in positions}


def table_rows(html: str, caption_start: str) -> dict[str, tuple[str, ...]]:
    """The positions table with this caption, as {currency: (held, owed, net)} text."""
    table = re.search(rf"<caption>{re.escape(caption_start)}.*?</table>", html, re.S)
    assert table, caption_start
    rows = re.findall(r'<th scope="row">(\w{3})</th>\s*((?:<td class="num">[^<]*</td>\s*){3})', table.group(0))
    return {currency: tuple(re.findall(r'<td class="num">([^<]*)</td>', cells)) for currency, cells in rows}


def test_the_360_page_shows_held_owed_and_net_as_computed_by_hand(client, manager, book):
    ann, _ = book
    client.force_login(manager)

    response = client.get(ann.get_absolute_url())

    view = response.context["view"]
    assert figures(view.positions) == ANN
    html = response.content.decode()
    assert table_rows(html, "Portfolio by currency") == {
        "EUR": (f"EUR{NBSP}1,000.00", f"EUR{NBSP}0.00", f"EUR{NBSP}1,000.00"),
        "GBP": (f"GBP{NBSP}42,500.00", f"GBP{NBSP}12,604.50", f"GBP{NBSP}29,895.50"),
    }
    assert "joint holdings in full" in html
    # Carl's holdings are on the page, apart, and counted nowhere.
    others = re.search(r'id="holdings-not-counted".*?</table>', html, re.S).group(0)
    assert f"GBP{NBSP}9,999.00" in others and "Beneficiary" in others and "Power of attorney" in others
    counted = [h.balance for g in view.holding_groups for h in g.holdings]
    assert D("9999.00") not in counted and D("-5000.00") not in counted


def test_the_household_panel_counts_the_joint_deposit_once(client, manager, book):
    ann, ben = book
    client.force_login(manager)

    response = client.get(ann.get_absolute_url())

    assert figures(response.context["view"].household_positions) == HOUSEHOLD
    assert table_rows(response.content.decode(), "Household totals")["GBP"] == (
        f"GBP{NBSP}62,500.00",
        f"GBP{NBSP}12,904.50",
        f"GBP{NBSP}49,595.50",
    )
    assert figures(client.get(ben.get_absolute_url()).context["view"].positions) == BEN


def test_the_api_gives_the_same_figures(manager, book):
    ann, ben = book
    _, secret = issue_key(manager)
    api = key_client(secret)

    body = api.get(f"/api/v1/customers/{ann.pk}/position/").json()

    as_figures = lambda rows: {r["currency"]: (r["held"], r["owed"], r["net"]) for r in rows}  # noqa: E731
    assert as_figures(body["positions"]) == ANN
    assert as_figures(body["household_positions"]) == HOUSEHOLD
    assert body["household_members"] == [ben.pk]
    assert body["counted_roles"] == ["owner", "joint"]


def test_another_managers_customer_has_no_position_for_you(other_manager, book):
    ann, _ = book
    _, secret = issue_key(other_manager)

    assert key_client(secret).get(f"/api/v1/customers/{ann.pk}/position/").status_code == 404


def test_the_export_gives_the_same_figures(client, manager, book):
    client.force_login(manager)

    response = client.get(reverse("customers:export"))

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["Name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"Ann Ashby", "Ben Ashby"}
    ann = rows["Ann Ashby"]
    assert (ann["Held"], ann["Owed"], ann["Net"]) == (
        "EUR 1000.00; GBP 42500.00",
        "EUR 0.00; GBP 12604.50",
        "EUR 1000.00; GBP 29895.50",
    )
    ben = rows["Ben Ashby"]
    assert (ben["Held"], ben["Owed"], ben["Net"]) == ("GBP 60000.00", "GBP 300.00", "GBP 59700.00")
