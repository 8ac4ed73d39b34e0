"""The website's API: create with an Idempotency-Key; staff read through the lead selector."""

from __future__ import annotations

import uuid

import pytest

from apps.api.models import Scope
from apps.identity import roles
from apps.leads.models import Lead
from tests.api.conftest import issue_key, key_client, problem
from tests.identity.factories import UserFactory
from tests.leads.factories import lead_in_state

URL = "/api/v1/leads/"
BODY = {
    "inquiry": "I'd like a mortgage of £250,000 for my first home. I earn £2,800 a month.",
    "full_name": "Jane Doe",
    "email": "jane.doe@mail.example",
    "external_ref": "web-1",
}


@pytest.fixture
def website(branch):  # type: ignore[no-untyped-def]
    """The website's integration account: a service user whose key may only create leads."""
    owner = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], username="website.integration")
    _, secret = issue_key(owner, [Scope.LEADS_CREATE])
    return key_client(secret)


def test_the_website_creates_a_lead_and_gets_no_personal_data_back(website, branch):
    response = website.post(URL, {**BODY, "branch": branch.code}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "state", "external_ref", "received_at"}
    assert response["Location"].endswith(f"/leads/{body['id']}/")
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.source, lead.state, lead.branch_id, lead.email) == ("api", "new", branch.pk, "jane.doe@mail.example")


def test_a_retry_with_the_same_key_replays_without_a_second_lead(website):
    first = website.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    again = website.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1


def test_a_create_without_an_idempotency_key_is_a_400(website):
    response = website.post(URL, BODY, format="json")
    assert response.status_code == 400
    problem(response)
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "email": "", "phone": ""}, "email"),
        ({**BODY, "inquiry": "   "}, "inquiry"),
        ({**BODY, "branch": "NOPE"}, "branch"),
    ],
)
def test_bad_input_is_problem_json_naming_the_field(website, body, field):
    response = website.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 400
    assert field in problem(response).get("errors", {})
    assert not Lead.objects.exists()


def test_the_website_key_cannot_read_leads(website):
    assert website.get(URL).status_code == 403


def test_a_manager_lists_their_own_and_the_branch_pool_only(manager, other_manager, branch):
    mine = lead_in_state(Lead.State.ASSIGNED, branch=branch, assignee=manager)
    pool = lead_in_state(Lead.State.QUALIFIED, branch=branch)
    lead_in_state(Lead.State.ASSIGNED, branch=branch, assignee=other_manager)
    _, secret = issue_key(manager, [Scope.LEADS_READ])
    rows = key_client(secret).get(URL).json()["results"]
    assert {row["id"] for row in rows} == {mine.pk, pool.pk}
    assert "email" not in rows[0] and "inquiry" not in rows[0]
    assert rows[0]["email_hint"].startswith("j***@")
