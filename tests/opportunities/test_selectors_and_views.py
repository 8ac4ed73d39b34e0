from __future__ import annotations

import pytest
from django.urls import reverse

from apps.opportunities.models import Opportunity
from apps.opportunities.selectors import board, visible_opportunities
from apps.opportunities.services import close_opportunity
from tests.customers.factories import CustomerFactory
from tests.leads.factories import lead_in_state
from tests.opportunities.factories import default_stages, opportunity

pytestmark = pytest.mark.django_db


def test_an_opportunity_is_visible_exactly_when_its_customer_is(manager, other_manager, branch_manager):
    mine = opportunity(owner=manager)
    theirs = opportunity(owner=other_manager)

    assert list(visible_opportunities(user=manager)) == [mine]
    assert list(visible_opportunities(user=other_manager)) == [theirs]
    # Both customers are booked at the branch manager's branch.
    assert set(visible_opportunities(user=branch_manager)) == {mine, theirs}


def test_an_opportunity_on_a_lead_follows_the_leads_rule(manager, other_manager, branch):
    lead = lead_in_state("assigned", branch=branch, assignee=manager)
    on_lead = opportunity(lead=lead)

    assert list(visible_opportunities(user=manager)) == [on_lead]
    assert list(visible_opportunities(user=other_manager)) == []


def test_the_board_puts_cards_in_their_columns_with_totals(manager):
    stages = default_stages()
    first = opportunity(owner=manager)
    second = opportunity(owner=manager, currency="EUR")
    close_opportunity(actor=manager, opportunity=second, won=True, reason="Signed")

    columns = {column.stage.name: column for column in board(user=manager)}

    assert [c.pk for c in columns["Prospecting"].cards] == [first.pk]
    assert columns["Prospecting"].totals == [("GBP", first.amount)]
    assert [c.pk for c in columns["Won"].cards] == [second.pk]
    assert list(columns) == [s.name for s in sorted(stages.values(), key=lambda s: s.position)]


@pytest.mark.parametrize("cards", [2, 30])
def test_the_board_page_queries_stay_flat(client, manager, cards, django_assert_max_num_queries):
    for _ in range(cards):
        opportunity(owner=manager, customer=CustomerFactory(assigned_to=manager))
    client.force_login(manager)

    with django_assert_max_num_queries(15):
        response = client.get(reverse("opportunities:board"))

    assert response.status_code == 200
    assert response.content.decode().count('class="card"') == cards


def test_moving_with_htmx_answers_the_board_and_without_redirects(client, manager):
    stages = default_stages()
    opened = opportunity(owner=manager)
    client.force_login(manager)
    url = reverse("opportunities:move", args=[opened.pk])

    htmx = client.post(url, {"stage": stages["Qualified"].pk}, HTTP_HX_REQUEST="true")
    plain = client.post(url, {"stage": stages["Proposal"].pk})

    assert htmx.status_code == 200 and 'id="board"' in htmx.text
    assert htmx["HX-Trigger"] == "opportunity-moved"
    assert plain.status_code == 302 and plain["Location"] == reverse("opportunities:board")
    opened.refresh_from_db()
    assert opened.stage == stages["Proposal"]


def test_closing_without_a_reason_shows_the_error_and_keeps_it_open(client, manager):
    opened = opportunity(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("opportunities:close", args=[opened.pk]), {"outcome": "won", "reason": ""}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.text
    opened.refresh_from_db()
    assert opened.outcome == Opportunity.Outcome.OPEN


def test_a_new_opportunity_by_customer_number(client, manager, other_manager):
    default_stages()
    mine = CustomerFactory(assigned_to=manager, external_id="CB-MINE-1")
    CustomerFactory(assigned_to=other_manager, external_id="CB-THEIRS-1")
    from tests.products.factories import ProductFactory

    product = ProductFactory()
    client.force_login(manager)
    form = {"product": product.pk, "amount": "5000", "currency": "GBP", "expected_close": "2026-12-24"}

    refused = client.post(reverse("opportunities:new"), {**form, "customer": "CB-THEIRS-1"})
    created = client.post(reverse("opportunities:new"), {**form, "customer": "CB-MINE-1"})

    assert refused.status_code == 200 and "No customer of yours has this number." in refused.text
    made = Opportunity.objects.get()
    assert made.customer == mine
    assert created["Location"] == made.get_absolute_url()


def test_bad_input_on_the_change_form_is_a_form_error_not_a_500(client, manager):
    opened = opportunity(owner=manager)
    client.force_login(manager)

    response = client.post(
        reverse("opportunities:detail", args=[opened.pk]),
        {"amount": "-1", "currency": "GBP", "probability": "140", "expected_close": "not a date"},
    )

    assert response.status_code == 400
    assert "errorlist" in response.text


def test_a_lead_page_lists_the_leads_open_opportunities(client, manager, branch):
    lead = lead_in_state("assigned", branch=branch, assignee=manager)
    on_lead = opportunity(lead=lead)
    other_lead = opportunity(lead=lead_in_state("assigned", branch=branch, assignee=manager))
    client.force_login(manager)

    html = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert 'id="opportunities"' in html
    assert f'href="/opportunities/#opportunity-{on_lead.pk}"' in html
    assert f"#opportunity-{other_lead.pk}" not in html


def test_a_lead_page_without_opportunities_has_no_such_panel(client, manager, branch):
    lead = lead_in_state("assigned", branch=branch, assignee=manager)
    client.force_login(manager)

    html = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert 'id="opportunities"' not in html
