"""Token and cost accounting for lead extraction, and the daily LLM budget per use (issue #20, item 9).

The LLM is the local OpenAI-protocol server (tests/recommendations/fake_openai.py), reached by
the real client over HTTP: nothing of ours is patched. Its answers report 420 prompt and 80
completion tokens.
"""

from __future__ import annotations

from decimal import Decimal

from apps.core.llm import estimate_cost
from apps.core.models import AuditEvent
from apps.leads.models import Lead
from apps.leads.selectors import llm_daily_costs, llm_spent_today
from apps.leads.services import process_lead
from apps.notifications.models import Notification
from tests.leads.factories import new_lead
from tests.recommendations.fake_openai import ok

ANSWER = {
    "monthly_income": 3100,
    "requested_amount": 9500,
    "currency": "USD",
    "loan_purpose": "car_purchase",
    "intent": "car_loan",
    "constraints": [],
    "confidence": {"monthly_income": 0.92, "requested_amount": 0.95, "loan_purpose": 0.9, "intent": 0.97},
}
TEXT = "Car loan of $9,500 please, I earn 3,100 a month"
ONE_CALL = estimate_cost(420, 80)


def _event(lead: Lead) -> AuditEvent:
    return AuditEvent.objects.get(object_id=str(lead.pk), action__in=["lead.qualified", "lead.sent_to_review"])


def test_a_lead_read_by_the_llm_records_its_tokens_model_and_cost(fake_llm, branch):
    fake_llm.queue(ok(ANSWER))
    lead = new_lead(branch=branch, text=TEXT)
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.extracted_by == "llm"
    assert lead.extraction_model == "fake-gpt"
    assert (lead.llm_prompt_tokens, lead.llm_completion_tokens) == (420, 80)
    assert lead.llm_cost == ONE_CALL > 0
    assert lead.extracted_at is not None
    assert _event(lead).metadata["tokens"] == 500
    assert _event(lead).metadata["cost"] == str(ONE_CALL)
    assert llm_spent_today() == ONE_CALL
    [today] = llm_daily_costs(leads=Lead.objects.all())
    assert (today["leads"], today["llm"], today["rules"]) == (1, 1, 0)
    assert today["cost"] == today["cost_per_lead"] == ONE_CALL


def test_an_unusable_answer_still_counts_its_tokens(fake_llm, branch):
    fake_llm.queue(ok("this is not json"))
    lead = new_lead(branch=branch, text=TEXT)
    process_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.extracted_by == "rules"
    assert lead.llm_cost == ONE_CALL
    assert llm_spent_today() == ONE_CALL


def test_past_the_daily_budget_the_rules_serve_and_admins_are_told_once(fake_llm, branch, administrator, settings):
    settings.FINPULSE_LLM_DAILY_BUDGET = {"advice": "", "leads": str(ONE_CALL)}
    fake_llm.queue(ok(ANSWER), ok(ANSWER), ok(ANSWER))
    first = new_lead(branch=branch, text=TEXT)
    process_lead(lead_id=first.pk)
    assert Notification.objects.filter(kind="llm_budget").count() == 0  # spent == budget only now

    later = [new_lead(branch=branch, text=TEXT) for _ in range(3)]
    for lead in later:
        process_lead(lead_id=lead.pk)

    assert fake_llm.calls == 1  # the vendor was not called again once the budget was spent
    for lead in later:
        lead.refresh_from_db()
        assert lead.extracted_by == "rules"
        assert lead.llm_cost == 0
        assert lead.requested_amount == Decimal("9500.00")
        assert _event(lead).metadata["llm_unavailable"] == "budget_exhausted"
    notices = Notification.objects.filter(kind="llm_budget")
    assert notices.count() == len({n.channel for n in notices}) >= 1  # one per channel, not one per lead
    assert set(notices.values_list("recipient_user_id", flat=True)) == {administrator.pk}
    assert "leads" in notices.first().subject


def test_no_budget_set_means_no_cap(fake_llm, branch, administrator, settings):
    settings.FINPULSE_LLM_DAILY_BUDGET = {"advice": "", "leads": ""}
    fake_llm.queue(ok(ANSWER), ok(ANSWER))
    for _ in range(2):
        process_lead(lead_id=new_lead(branch=branch, text=TEXT).pk)
    assert fake_llm.calls == 2
    assert not Notification.objects.filter(kind="llm_budget").exists()


def test_the_admin_shows_daily_totals_and_the_budget(fake_llm, branch, client, administrator, settings):
    settings.FINPULSE_LLM_DAILY_BUDGET = {"advice": "", "leads": "5.00"}
    fake_llm.queue(ok(ANSWER))
    process_lead(lead_id=new_lead(branch=branch, text=TEXT).pk)
    client.force_login(administrator)
    page = client.get("/admin/leads/lead/llm-costs/")
    assert page.status_code == 200
    body = page.content.decode()
    assert str(ONE_CALL) in body and "5.00" in body
    listing = client.get("/admin/leads/lead/")
    assert listing.status_code == 200 and "fake-gpt" in listing.content.decode()
