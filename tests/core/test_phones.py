"""Phone numbers in any form a person types are one number (E.164) for the blind index,
imports, the API and search; a command rebuilds the indexes written before, resumably."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.blind_index import blind_index
from apps.core.models import AuditEvent
from apps.core.phones import e164
from apps.customers.models import Customer
from apps.imports.schemas import phone as import_phone
from apps.workspace.customer_list import customers_by_pii
from tests.customers.factories import CustomerFactory

FORMS = ("07700 900059", "+44 7700 900059", "447700900059", "0044 7700 900059", "+44 (0)7700-900059")


@pytest.mark.parametrize("typed", FORMS)
def test_every_usual_form_of_a_uk_number_is_the_same_e164_number(typed):
    assert e164(typed) == "+447700900059"
    assert blind_index("phone", typed) == blind_index("phone", "+447700900059")


def test_a_number_without_a_country_code_belongs_to_the_banks_region(settings):
    settings.FINPULSE_PHONE_REGION = "US"

    assert e164("(202) 555-0123") == "+12025550123"
    assert e164("+44 20 7946 0000") == "+442079460000"  # a country code always wins


@pytest.mark.parametrize("typed", ["", "call me", None])
def test_something_that_is_not_a_phone_number_has_no_e164_form(typed):
    assert e164(typed) is None


def test_the_import_accepts_a_national_number_and_refuses_words():
    assert import_phone("07700 900059") == "07700 900059"  # kept as written; indexed in E.164
    with pytest.raises(ValueError, match="Not a phone number"):
        import_phone("ring reception")


@pytest.mark.django_db
def test_a_customer_saved_with_one_form_is_found_with_every_other(manager):
    wanted = CustomerFactory(assigned_to=manager, phone="07700 900059")

    for typed in FORMS:
        assert list(customers_by_pii(user=manager, kind="phone", value=typed)) == [wanted]


@pytest.mark.django_db
def test_the_api_refuses_a_phone_that_is_not_one_and_indexes_the_rest_in_e164(manager, branch):
    from tests.api.conftest import issue_key, key_client

    _, secret = issue_key(manager)
    api = key_client(secret)
    body = {"external_id": "CB-PHONE-1", "first_name": "Pat", "last_name": "Phone", "branch": branch.code}

    refused = api.post(
        "/api/v1/customers/", {**body, "phone": "(((((( ))"}, format="json", HTTP_IDEMPOTENCY_KEY="phone-1"
    )
    created = api.post(
        "/api/v1/customers/", {**body, "phone": "07700 900059"}, format="json", HTTP_IDEMPOTENCY_KEY="phone-2"
    )

    assert refused.status_code == 400
    assert "phone" in refused.json()["errors"], refused.content
    assert created.status_code == 201, created.content
    customer = Customer.objects.get(external_id="CB-PHONE-1")
    assert customer.phone_index == blind_index("phone", "+447700900059")


def _old_index(value: str) -> str:
    """The index as it was written before E.164: digits with the + kept, nothing more."""
    digits = "".join(ch for ch in value if ch.isdigit())
    message = f"phone:{'+' if value.startswith('+') else ''}{digits}".encode()
    return hmac.new(settings.BLIND_INDEX_KEY.encode(), message, hashlib.sha256).hexdigest()


@pytest.mark.django_db
def test_reindexing_rewrites_old_indexes_once_and_resumes_after_a_limit(capsys):
    customers = [CustomerFactory(phone=f"07700 90{n:04d}") for n in range(5)]
    CustomerFactory(phone="")  # no phone: nothing to index
    for customer in customers:
        Customer.objects.filter(pk=customer.pk).update(phone_index=_old_index(customer.phone))
    assert not Customer.objects.filter(phone_index=blind_index("phone", "+44 7700 900003")).exists()  # the symptom

    with pytest.raises(CommandError, match=r"--after \d+"):
        call_command("reindex_phones", "--model", "customers.Customer", "--limit", "2", "--batch-size", "1")
    stopped_at = customers[1].pk
    call_command("reindex_phones", "--model", "customers.Customer", "--after", str(stopped_at))
    call_command("reindex_phones")  # a rerun finds nothing left to change

    indexes = dict(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("pk", "phone_index"))
    assert indexes == {c.pk: blind_index("phone", f"+44{c.phone[1:]}") for c in customers}
    events = AuditEvent.objects.filter(action="phone_index.rebuilt")
    assert sum(event.metadata["count"] for event in events) == 5
    assert "0 index(es) changed" in capsys.readouterr().out
