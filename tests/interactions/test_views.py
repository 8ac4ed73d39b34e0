import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.interactions.models import Attachment, Interaction
from apps.interactions.selectors import customer_timeline, recent_interactions
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import HTML_BYTES, PDF_BYTES, InteractionFactory, upload
from tests.tasks.factories import TaskFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _form(**overrides):
    data = {
        "channel": "phone",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": "Renewal call",
        "body": "Customer wants to renew for 12 months.",
        "outcome": "Agreed",
        "next_step": "Send terms",
    }
    data.update(overrides)
    return data


@pytest.fixture
def logged(manager):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    return InteractionFactory(customer=customer, attachments=[upload("statement.pdf", PDF_BYTES)])


# --- another manager's objects are a 404 --------------------------------------------------


def test_another_manager_gets_404_on_every_interaction_surface(client, other_manager, logged):
    attachment = logged.attachments.get()
    client.force_login(other_manager)
    urls = [
        reverse("interactions:timeline", args=[logged.customer_id]),
        reverse("interactions:create", args=[logged.customer_id]),
        reverse("interactions:detail", args=[logged.pk]),
        reverse("interactions:edit", args=[logged.pk]),
        reverse("interactions:correct", args=[logged.pk]),
        reverse("interactions:attachment_download", args=[attachment.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("interactions:create", args=[logged.customer_id]), _form())
    assert response.status_code == 404
    assert Interaction.objects.count() == 1


def test_a_confidential_interaction_is_hidden_from_the_branch_manager_but_not_compliance(
    client, manager, branch_manager, compliance_officer
):
    customer = CustomerFactory(assigned_to=manager, branch=manager.branch)
    secret = InteractionFactory(customer=customer, is_confidential=True, subject="Divorce proceedings")
    InteractionFactory(customer=customer, subject="Routine call")

    client.force_login(branch_manager)
    assert client.get(reverse("interactions:detail", args=[secret.pk])).status_code == 404
    page = client.get(reverse("interactions:timeline", args=[customer.pk])).content.decode()
    assert "Routine call" in page
    assert "Divorce proceedings" not in page
    assert secret.pk not in [row.pk for row in recent_interactions(user=branch_manager)]

    client.force_login(compliance_officer)
    assert client.get(reverse("interactions:detail", args=[secret.pk])).status_code == 200
    assert secret.pk in [row.pk for row in recent_interactions(user=compliance_officer)]


# --- logging -------------------------------------------------------------------------------


def test_logging_through_htmx_triggers_an_event_and_returns_the_refreshed_timeline(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(
        reverse("interactions:create", args=[customer.pk]),
        {**_form(subject="Meeting at branch"), "attachments": [upload()]},
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "interaction-logged"
    body = response.content.decode()
    assert f'id="customer-timeline-{customer.pk}"' in body
    assert 'hx-swap-oob="true"' in body
    assert "Meeting at branch" in body
    assert Attachment.objects.filter(interaction__customer=customer).count() == 1


def test_logging_without_htmx_redirects_to_the_customer_page(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(reverse("interactions:create", args=[customer.pk]), _form())

    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()


def test_a_disguised_attachment_is_refused_in_place_keeping_what_was_typed(client, manager, media_root):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(
        reverse("interactions:create", args=[customer.pk]),
        {**_form(subject="Kept subject"), "attachments": [upload("report.pdf", HTML_BYTES)]},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "report.pdf" in body
    assert "text/html" in body
    assert 'value="Kept subject"' in body
    assert "HX-Trigger" not in response
    assert not Interaction.objects.exists()
    assert not Attachment.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_an_oversized_attachment_is_refused_with_a_message(client, manager, settings):
    settings.FINPULSE_ATTACHMENT_MAX_BYTES = 1024
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(
        reverse("interactions:create", args=[customer.pk]),
        {**_form(), "attachments": [upload("scan.pdf", PDF_BYTES + b"x" * 4096)]},
    )

    assert response.status_code == 200
    assert "at most 1 KB" in response.content.decode()
    assert not Interaction.objects.exists()


def test_a_missing_subject_is_shown_next_to_the_field(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.post(reverse("interactions:create", args=[customer.pk]), _form(subject="", body="My notes"))

    assert response.status_code == 200
    assert response.context["form"].errors["subject"]
    assert "My notes" in response.content.decode()


# --- download ------------------------------------------------------------------------------


def test_downloading_an_attachment_is_a_checked_audited_attachment_response(client, manager, logged):
    attachment = logged.attachments.get()
    client.force_login(manager)

    response = client.get(reverse("interactions:attachment_download", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="statement.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == attachment.sha256
    event = AuditEvent.objects.get(action="attachment.downloaded", object_id=str(attachment.pk))
    assert event.actor_id == manager.pk
    assert event.customer_id == logged.customer_id


# --- edit window and corrections -----------------------------------------------------------


def test_the_author_can_edit_within_the_window(client, manager, logged):
    client.force_login(manager)

    response = client.post(reverse("interactions:edit", args=[logged.pk]), _form(subject="Better subject"))

    assert response.status_code == 302
    logged.refresh_from_db()
    assert logged.subject == "Better subject"


def test_after_the_window_editing_is_refused_and_a_correction_is_offered(client, manager, logged):
    Interaction.objects.filter(pk=logged.pk).update(created_at=timezone.now() - dt.timedelta(minutes=16))
    client.force_login(manager)

    get = client.get(reverse("interactions:edit", args=[logged.pk]))
    post = client.post(reverse("interactions:edit", args=[logged.pk]), _form(subject="Too late"))

    assert get.status_code == post.status_code == 409
    assert reverse("interactions:correct", args=[logged.pk]) in post.content.decode()
    logged.refresh_from_db()
    assert logged.subject != "Too late"


def test_someone_else_than_the_author_cannot_open_the_edit_page(client, branch_manager, logged):
    client.force_login(branch_manager)

    assert client.get(reverse("interactions:detail", args=[logged.pk])).status_code == 200
    assert client.get(reverse("interactions:edit", args=[logged.pk])).status_code == 404


def test_adding_a_correction_creates_a_linked_entry(client, manager, logged):
    client.force_login(manager)

    response = client.post(reverse("interactions:correct", args=[logged.pk]), _form(subject="Correction: 6 months"))

    correction = Interaction.objects.get(corrects=logged)
    assert response["Location"] == correction.get_absolute_url()
    assert "Correction of" in client.get(reverse("interactions:timeline", args=[logged.customer_id])).content.decode()


# --- the timeline --------------------------------------------------------------------------


def test_the_timeline_merges_interactions_and_system_events_newest_first(manager):
    customer = CustomerFactory(assigned_to=manager)
    old = InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(days=2))
    recent = InteractionFactory(customer=customer, occurred_at=timezone.now() - dt.timedelta(hours=1))
    TaskFactory(customer=customer, title="Send renewal terms")

    entries = customer_timeline(user=manager, customer_id=customer.pk).entries

    positions = {
        "task": next(i for i, e in enumerate(entries) if e.label == "Task created"),
        "recent": next(i for i, e in enumerate(entries) if e.interaction == recent),
        "old": next(i for i, e in enumerate(entries) if e.interaction == old),
    }
    assert positions["task"] < positions["recent"] < positions["old"]
    assert next(e for e in entries if e.label == "Task created").detail == "Send renewal terms"
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    # Interactions appear once, as themselves, not also as "interaction.logged" events.
    assert not [e for e in entries if "interaction" in e.label.lower()]


def test_the_timeline_never_shows_personal_data_from_audit_events(client, manager):
    customer = CustomerFactory(assigned_to=manager, email="jane.private@mail.example", national_id="ZZ998877A")
    client.force_login(manager)

    body = client.get(reverse("interactions:timeline", args=[customer.pk])).content.decode()

    assert "Customer record created" in body
    assert "jane.private" not in body
    assert "ZZ998877A" not in body


def test_paging_through_the_timeline_returns_every_entry_once_in_order(manager):
    customer = CustomerFactory(assigned_to=manager)
    moment = timezone.now() - dt.timedelta(hours=3)
    for n in range(4):  # same timestamp: the cursor must still not skip or repeat
        InteractionFactory(customer=customer, occurred_at=moment, subject=f"Same time {n}")
    for _ in range(2):
        TaskFactory(customer=customer)
    everything = customer_timeline(user=manager, customer_id=customer.pk, limit=100).entries

    seen, before = [], ""
    while True:
        page = customer_timeline(user=manager, customer_id=customer.pk, before=before, limit=3)
        seen += [(e.rank, e.pk) for e in page.entries]
        if not page.next_cursor:
            break
        before = page.next_cursor

    assert seen == [(e.rank, e.pk) for e in everything]


def test_an_invalid_cursor_is_a_400_with_a_message(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    response = client.get(reverse("interactions:timeline", args=[customer.pk]), {"before": "nonsense"})

    assert response.status_code == 400


@pytest.mark.parametrize("interactions", [2, 20])
def test_timeline_queries_stay_flat(client, manager, interactions, django_assert_max_num_queries):
    customer = CustomerFactory(assigned_to=manager)
    for n in range(interactions):
        InteractionFactory(customer=customer, attachments=[upload(f"s{n}.pdf")] if n % 2 else [])
        if n % 4 == 0:
            TaskFactory(customer=customer)
    client.force_login(manager)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("interactions:timeline", args=[customer.pk]), **HTMX)
    assert response.status_code == 200


@pytest.mark.parametrize("count", [2, 20])
def test_recent_interactions_queries_stay_flat(manager, count, django_assert_max_num_queries):
    for _ in range(count):
        InteractionFactory(customer=CustomerFactory(assigned_to=manager))

    with django_assert_max_num_queries(4):
        rows = list(recent_interactions(user=manager, limit=10))
        names = [row.customer_name for row in rows] + [row.author_name for row in rows]
    assert len(rows) == min(count, 10)
    assert names


def test_every_interaction_page_renders_for_the_author_with_and_without_htmx(client, manager, logged):
    client.force_login(manager)
    urls = [
        reverse("interactions:timeline", args=[logged.customer_id]),
        reverse("interactions:create", args=[logged.customer_id]),
        reverse("interactions:detail", args=[logged.pk]),
        reverse("interactions:edit", args=[logged.pk]),
        reverse("interactions:correct", args=[logged.pk]),
    ]
    for url in urls:
        for headers in ({}, HTMX):
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            assert "<script>" not in response.content.decode()  # CSP: no inline scripts


def test_the_timeline_shows_when_a_holding_was_opened_at_the_bank_and_its_products_name(client, manager):
    from decimal import Decimal

    from apps.accounts.services import open_holding
    from tests.products.factories import ProductFactory

    customer = CustomerFactory(assigned_to=manager)
    product = ProductFactory(code="TD-12M-FIX", name="Twelve-month fixed saver", category="deposit")
    open_holding(
        actor=manager,
        external_id="H-TIMELINE-1",
        product=product,
        category="term_deposit",
        parties={customer: "owner"},
        currency="GBP",
        opened_on=dt.date(2019, 3, 12),
        balance=Decimal("1000.00"),
        maturity_date=dt.date(2027, 3, 12),
        maturity_instruction="renew",
    )
    client.force_login(manager)

    html = client.get(reverse("interactions:timeline", args=[customer.pk])).content.decode()

    entry = html[html.index("Holding opened") - 200 : html.index("Holding opened") + 200]
    assert '<time datetime="2019-03-12">12 Mar 2019</time>' in entry
    assert "Twelve-month fixed saver" in entry and "TD-12M-FIX" not in entry
