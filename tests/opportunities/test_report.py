"""The book report's "pipeline value by stage": through the visibility rule, in SQL, in the CSV."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.business_date import business_today
from apps.core.models import FxRate
from apps.identity import roles
from apps.opportunities.services import close_opportunity, move_opportunity
from apps.workspace.book_report import book_report
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.opportunities.factories import default_stages, opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(settings, manager, other_manager):  # type: ignore[no-untyped-def]
    settings.FINPULSE_REPORTING_CURRENCY = "EUR"
    stages = default_stages()
    FxRate.objects.create(
        rate_date=business_today() - dt.timedelta(days=1), base_currency="GBP", quote_currency="EUR", rate="1.15"
    )
    opportunity(owner=manager, amount=Decimal("1000.00"))  # Prospecting, 10 %
    opportunity(owner=manager, amount=Decimal("3000.00"))
    proposal = opportunity(owner=manager, amount=Decimal("2000.00"), currency="EUR")
    move_opportunity(actor=manager, opportunity=proposal, stage=stages["Proposal"])  # 50 %
    won = opportunity(owner=manager, amount=Decimal("5000.00"))
    close_opportunity(actor=manager, opportunity=won, won=True, reason="Signed")  # not in the pipeline
    # A colleague's customer in another branch: never counted for the manager.
    outsider = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory())
    opportunity(owner=outsider, customer=CustomerFactory(assigned_to=outsider), amount=Decimal("99999.00"))
    return stages


def test_the_pipeline_is_the_open_opportunities_by_stage_of_the_viewers_book(pipeline, manager):
    report = book_report(user=manager)

    by_stage = {stage.name: stage for stage in report.pipeline}
    assert list(by_stage) == ["Prospecting", "Proposal"]
    prospecting = by_stage["Prospecting"]
    assert prospecting.opportunities == 2
    assert [(m.currency, m.amount) for m in prospecting.value] == [("GBP", Decimal("4000.00"))]
    assert [(m.currency, m.amount) for m in prospecting.weighted] == [("GBP", Decimal("400.00"))]
    assert prospecting.weighted_total.total == Decimal("460.00")  # 400 GBP at 1.15
    assert by_stage["Proposal"].weighted[0].amount == Decimal("1000.00")
    value, weighted = report.pipeline_total
    assert (value.total, weighted.total) == (Decimal("6600.00"), Decimal("1460.00"))


def test_a_branch_manager_sees_the_branch_pipeline(pipeline, manager, other_manager, branch_manager):
    opportunity(owner=other_manager, amount=Decimal("500.00"))

    report = book_report(user=branch_manager)

    prospecting = next(stage for stage in report.pipeline if stage.name == "Prospecting")
    assert prospecting.opportunities == 3
    assert prospecting.value[0].amount == Decimal("4500.00")


def test_the_page_and_the_csv_show_the_pipeline(pipeline, client, manager):
    client.force_login(manager)

    page = client.get(reverse("workspace:book_report"))
    export = client.get(reverse("workspace:book_report_export"), {"currency": "EUR"})

    assert "Pipeline value by stage" in page.text
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Pipeline by stage,Prospecting,value,GBP,4000.00,EUR,4600.00" in body
    assert "Pipeline by stage,Proposal,weighted value,EUR,1000.00,EUR,1000.00" in body
    assert "99999" not in body and "99999" not in page.text
