"""Pages: the public form (CSRF, honeypot, rate limit, no account probing), the inbox, a lead's page."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.customers.models import Customer
from apps.leads.models import Lead, LeadCorrection
from tests.customers.factories import CustomerFactory
from tests.leads.factories import lead_in_state

S = Lead.State
FORM = {
    "full_name": "Jane Doe",
    "email": "jane.doe@mail.example",
    "phone": "",
    "branch": "",
    "inquiry": "I'd like a personal loan of £5,000 for a new kitchen. I earn £2,500 a month.",
    "contact_consent": "on",
    "website": "",
}


@pytest.fixture
def public(db) -> Client:  # type: ignore[no-untyped-def]
    return Client(enforce_csrf_checks=True)


def _post_form(client: Client, data: dict, **extra) -> object:  # type: ignore[no-untyped-def]
    page = client.get("/leads/apply/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    return client.post("/leads/apply/", {**data, "csrfmiddlewaretoken": token}, **extra)


def test_the_public_form_opens_without_signing_in_and_hides_its_honeypot(public):
    page = public.get("/leads/apply/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="website"' in html and 'aria-hidden="true"' in html


def test_a_post_without_the_csrf_token_is_refused(public):
    assert public.post("/leads/apply/", FORM).status_code == 403
    assert not Lead.objects.exists()


def test_a_person_submits_a_lead_and_it_is_stored_encrypted(public, caplog):
    with caplog.at_level(logging.DEBUG):
        response = _post_form(public, FORM)
    assert response.status_code == 302 and response["Location"] == "/leads/apply/thanks/"
    lead = Lead.objects.get()
    assert (lead.source, lead.state, lead.email_hint) == ("form", "new", "j***@mail.example")
    assert "jane.doe@mail.example" not in caplog.text and "Jane Doe" not in caplog.text


def test_a_bot_filling_the_honeypot_sees_the_same_answer_and_nothing_is_stored(public):
    response = _post_form(public, {**FORM, "website": "http://spam.example"})
    assert response.status_code == 302 and response["Location"] == "/leads/apply/thanks/"
    assert not Lead.objects.exists()


def test_the_answer_does_not_reveal_whether_the_email_is_known(public):
    CustomerFactory(email="known@mail.example")
    known = _post_form(public, {**FORM, "email": "known@mail.example"})
    unknown = _post_form(Client(enforce_csrf_checks=True), {**FORM, "email": "stranger@mail.example"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert Lead.objects.count() == 2


def test_the_form_is_rate_limited_per_address(public, settings):
    settings.FINPULSE_LEAD_FORM_MAX_PER_HOUR = 2
    for _ in range(2):
        assert _post_form(public, FORM).status_code == 302
    limited = _post_form(public, FORM)
    assert limited.status_code == 429
    assert Lead.objects.count() == 2
    # Another address is not affected.
    assert _post_form(Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.9"), FORM).status_code == 302


def test_bad_input_shows_the_form_again_with_messages(public):
    response = _post_form(public, {**FORM, "email": "", "phone": "", "contact_consent": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "e-mail address or a phone number" in html and "agreement to contact you" in html
    assert not Lead.objects.exists()


def test_the_inbox_shows_mine_and_the_pool_with_due_and_overdue(client, manager, other_manager, branch):
    mine = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    pool = lead_in_state(S.NEEDS_REVIEW, branch=branch)
    theirs = lead_in_state(S.ASSIGNED, branch=branch, assignee=other_manager)
    Lead.objects.filter(pk=mine.pk).update(first_contact_due_at=timezone.now() - timezone.timedelta(hours=1))
    client.force_login(manager)
    html = client.get("/leads/").content.decode()
    assert f"/leads/{mine.pk}/" in html and f"/leads/{pool.pk}/" in html
    assert f"/leads/{theirs.pk}/" not in html
    assert "Overdue" in html and "Due " in html
    overdue_only = client.get("/leads/?overdue=on").content.decode()
    assert f"/leads/{mine.pk}/" in overdue_only and f"/leads/{pool.pk}/" not in overdue_only
    review_only = client.get("/leads/?state=needs_review").content.decode()
    assert f"/leads/{pool.pk}/" in review_only and f"/leads/{mine.pk}/" not in review_only


def test_a_lead_page_masks_contact_details_until_revealed_and_audits_the_reveal(client, manager, branch):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager, email="secret.person@mail.example")
    client.force_login(manager)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "secret.person@mail.example" not in page and "s***@mail.example" in page
    refused = client.post(f"/leads/{lead.pk}/reveal/", {"reason": "  "})
    assert refused.status_code == 400 and "Give a reason" in refused.content.decode()
    assert "secret.person@mail.example" not in refused.content.decode()
    assert not AuditEvent.objects.filter(action="pii.revealed").exists()
    revealed = client.post(f"/leads/{lead.pk}/reveal/", {"reason": "First call"}).content.decode()
    assert "secret.person@mail.example" in revealed and "new kitchen" in revealed
    event = AuditEvent.objects.get(action="pii.revealed", object_id=str(lead.pk))
    assert event.metadata["reason"] == "First call"


def test_an_advisor_corrects_fields_from_the_page(client, manager, branch):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    client.force_login(manager)
    response = client.post(
        f"/leads/{lead.pk}/correct/",
        {
            "intent": "personal_loan",
            "requested_amount": "13000",
            "monthly_income": "2800",
            "currency": "GBP",
            "loan_purpose": "home_improvement",
            "note": "Confirmed by phone",
        },
    )
    assert response.status_code == 302
    correction = LeadCorrection.objects.get(lead=lead)
    assert (correction.field, correction.new_value, correction.note) == (
        "requested_amount",
        "13000.00",
        "Confirmed by phone",
    )


def test_an_advisor_takes_a_pool_lead_then_records_contact_and_rejects_it(client, manager, branch):
    lead = lead_in_state(S.QUALIFIED, branch=branch)
    client.force_login(manager)
    assert "Take this lead" in client.get(f"/leads/{lead.pk}/").content.decode()
    client.post(f"/leads/{lead.pk}/take/")
    client.post(f"/leads/{lead.pk}/contacted/")
    client.post(f"/leads/{lead.pk}/reject/", {"reason": "Not eligible"})
    lead.refresh_from_db()
    assert (lead.state, lead.assignee_id, lead.rejection_reason) == (S.REJECTED, manager.pk, "Not eligible")
    assert lead.first_contacted_at is not None


def test_an_illegal_move_from_the_page_is_explained_not_a_500(client, manager, branch):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    client.force_login(manager)
    response = client.post(f"/leads/{lead.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert "cannot go from" in response.content.decode()
    lead.refresh_from_db()
    assert lead.state == S.ASSIGNED


def test_compliance_reads_a_lead_page_without_actions_and_cannot_act(client, compliance_officer, manager, branch):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager)
    client.force_login(compliance_officer)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Next step" not in page
    client.post(f"/leads/{lead.pk}/reject/", {"reason": "No"})
    lead.refresh_from_db()
    assert lead.state == S.ASSIGNED


def test_another_managers_lead_is_a_404(client, manager, other_manager, branch):
    theirs = lead_in_state(S.ASSIGNED, branch=branch, assignee=other_manager)
    client.force_login(manager)
    assert client.get(f"/leads/{theirs.pk}/").status_code == 404
    assert client.post(f"/leads/{theirs.pk}/reject/", {"reason": "x"}).status_code == 404


def test_converting_from_the_page_asks_for_the_details_and_the_risk_assessment(client, manager, branch):
    lead = lead_in_state(S.ASSIGNED, branch=branch, assignee=manager, full_name="Ada Lovelace")
    client.force_login(manager)

    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'name="risk_profile"' in page and 'name="last_name"' in page
    assert "selected>Balanced" not in page  # no assessment is pre-chosen

    refused = client.post(f"/leads/{lead.pk}/convert/", {"first_name": "Ada", "last_name": "Lovelace"}, follow=True)
    assert "Record the risk assessment" in refused.content.decode()
    assert not Customer.objects.exists()

    client.post(f"/leads/{lead.pk}/convert/", {"first_name": "Ada", "last_name": "Lovelace", "risk_profile": "2"})
    customer = Customer.objects.get()
    assert (customer.last_name, customer.risk_profile) == ("Lovelace", 2)
