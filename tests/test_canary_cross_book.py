"""Canary over every surface: nothing of another manager's book shows up anywhere.

Another manager's book is seeded with unique canary strings in every field that can be
rendered (customer names, external ids, emails, phones, interaction subjects, bodies and
outcomes, attachment file names, holding ids and the code and name of a product only they
hold, lead text and names, task titles, notification subjects) and is linked to the
viewer's book through every foreign key there is: relationships both ways, a joint holding,
a task assigned to the viewer on a customer that moved to the other book, a lead the viewer
converted into a customer that moved, alerts and notifications.

Then every route of the URL conf, enumerated from the resolver (pages, htmx fragments, Django
admin, the REST API, exports, downloads, the bell, and every list again with the canary as
the search term) is requested by the viewer: a relationship manager, and a branch manager of
the viewer's branch (another branch than the canary's). No canary may appear in any body or
header. A route whose URL keywords the test cannot fill in fails the test by name: a new
route is covered without editing this file, or the test says what it needs.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.identity import roles
from tests.identity.factories import BranchFactory, UserFactory

# Every canary contains this marker; a response containing it (any case) leaks.
MARKER = "qzcanary"
# A product only the other book holds: the bank's catalog is everyone's, so its own routes may
# show it (CATALOG_ROUTES); anywhere else it would say who holds what.
CATALOG_MARKER = "qzcatalog"
CATALOG_ROUTES = {
    "products:list": "The catalog: every employee reads every product.",
    "products:detail": "One product of the catalog.",
    "api:product-list": "The catalog over the API (active and withdrawn products).",
    "api:product-detail": "One product of the catalog over the API.",
}
CANARY = {
    "first_name": "Qzcanaryfirst",
    "last_name": "Qzcanarylast",
    "company": "Qzcanary Holdings Ltd",
    "external_id": "QZCANARY-EXT-1",
    "moved_external_id": "QZCANARY-EXT-2",
    "email": "qzcanary.mail@mail.example",
    "phone": "+44 7700 555001",  # phones cannot hold letters: checked by its digits below
    "national_id": "QZ555001C",
    "subject": "Qzcanary subject",
    "body": "Qzcanary interaction note",
    "outcome": "Qzcanary outcome",
    "file_name": "qzcanary-statement.pdf",
    "holding_external_id": "QZCANARY-HLD-1",
    "product_code": "QZCATALOGPRD",
    "product_name": "Qzcatalog Saver",
    "task_title": "Qzcanary task title",
    "lead_text": "Qzcanary lead: I'd like a loan of £12,000 for a qzcanary kitchen.",
    "lead_name": "Qzcanary Applicant",
    "notification_subject": "Qzcanary notification",
    "next_step": "Qzcanary next step",
}
PHONE_DIGITS = "7700555001"
TODAY = dt.date(2026, 3, 2)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str, URLPattern]]:
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            routes += _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            routes.append((prefix + str(pattern.pattern), namespace + (pattern.name or ""), pattern))
    return routes


def all_routes() -> list[tuple[str, str, URLPattern]]:
    """Every route of the URL conf: pages, htmx fragments, admin, API (nothing is left out)."""
    return _walk(get_resolver().url_patterns)


# -- the world: the viewer's book, the other book with canaries, and every link between them --


class World:
    def __init__(self) -> None:
        from apps.customers.services import assign_customer, link_customers, record_consent
        from finpulse.celery import broker_settings
        from tests.accounts.factories import HoldingFactory
        from tests.customers.factories import CustomerFactory
        from tests.interactions.factories import upload
        from tests.products.factories import ProductFactory, ProductRateFactory
        from tests.recommendations.factories import advisable_customer
        from tests.tasks.factories import TaskFactory

        # The broker as a running server has it (the filesystem broker's folders exist), so /readyz
        # answers 200 here whatever ran before this test.
        broker_settings()
        self.branch = BranchFactory()
        self.other_branch = BranchFactory()
        self.viewer = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=self.branch, username="viewer.rm")
        self.branch_manager = UserFactory(roles=[roles.BRANCH_MANAGER], branch=self.branch, username="viewer.bm")
        self.other = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=self.other_branch, username="other.rm")

        # The viewer's book.
        self.mine = advisable_customer(self.viewer, branch=self.branch, last_name="Viewerside")
        self.mine_too = CustomerFactory(assigned_to=self.viewer, last_name="Viewersecond")

        # The other book, full of canaries.
        self.canary = advisable_customer(
            self.other,
            branch=self.other_branch,
            first_name=CANARY["first_name"],
            last_name=CANARY["last_name"],
            external_id=CANARY["external_id"],
            email=CANARY["email"],
            phone=CANARY["phone"],
            national_id=CANARY["national_id"],
        )
        self.canary_company = CustomerFactory(
            assigned_to=self.other,
            kind="business",
            first_name="",
            last_name="",
            company_name=CANARY["company"],
            external_id="QZCANARY-EXT-3",
        )
        # Relationships both ways, household and not.
        link_customers(actor=None, from_customer=self.mine, to_customer=self.canary, kind="spouse")
        link_customers(actor=None, from_customer=self.canary, to_customer=self.mine_too, kind="household")
        link_customers(actor=None, from_customer=self.canary_company, to_customer=self.mine, kind="director")

        # A product only the other book holds, and a joint holding (its own fields are the
        # viewer's business too, so they carry no canary).
        canary_product = ProductFactory(code=CANARY["product_code"], name=CANARY["product_name"], is_active=False)
        ProductRateFactory(product=canary_product, effective_from=dt.date(2025, 1, 1), rate=Decimal("3.0000"))
        HoldingFactory(
            customer=self.canary,
            product=canary_product,
            category="term_deposit",
            external_id=CANARY["holding_external_id"],
            opened_on=TODAY - dt.timedelta(days=330),
            maturity_date=TODAY + dt.timedelta(days=7),
        )
        self.joint = HoldingFactory(
            customer=self.mine,
            parties={self.mine: "owner", self.canary: "joint"},
            category="term_deposit",
            opened_on=TODAY - dt.timedelta(days=330),
            maturity_date=TODAY + dt.timedelta(days=7),
        )
        record_consent(actor=None, customer=self.canary, channel="email", purpose="service", granted=True)

        # Interactions, with a canary file name, on the other book; and the viewer's own.
        from apps.interactions.services import log_interaction

        for confidential in (False, True):
            log_interaction(
                actor=self.other,
                customer=self.canary,
                channel="phone",
                occurred_at=dt.datetime(2026, 2, 5, 10, tzinfo=dt.UTC),
                subject=CANARY["subject"],
                body=CANARY["body"],
                outcome=CANARY["outcome"],
                is_confidential=confidential,
                attachments=[upload(name=CANARY["file_name"])],
            )
        self.interaction = log_interaction(
            actor=self.viewer,
            customer=self.mine,
            channel="phone",
            occurred_at=dt.datetime(2026, 2, 5, 11, tzinfo=dt.UTC),
            subject="Viewer call",
            attachments=[upload()],
        )
        self.attachment = self.interaction.attachments.get()

        # Tasks: the other book's own, and one assigned to the viewer on a customer that then
        # moved to the other book (the task stays assigned across books).
        TaskFactory(customer=self.canary, title=CANARY["task_title"])
        # (Booked at the other branch: the branch manager's branch filter must not cover it.)
        self.moved = CustomerFactory(
            assigned_to=self.viewer, branch=self.other_branch, external_id=CANARY["moved_external_id"]
        )
        # Its reminder time has come when the follow-up scan runs (below).
        TaskFactory(
            customer=self.moved,
            assignee=self.viewer,
            title=CANARY["task_title"] + " across",
            due_at=dt.datetime.combine(TODAY + dt.timedelta(days=3), dt.time(10), tzinfo=dt.UTC),
            reminder_at=dt.datetime.combine(TODAY, dt.time(6), tzinfo=dt.UTC),
        )
        self.task = TaskFactory(customer=self.mine, assignee=self.viewer, title="Viewer task")
        # Meetings today: the viewer's on their own customer, the viewer's on the customer that then
        # moves to the other book (it must leave the viewer's calendar and feed), the other's own.
        self.meeting = self._meeting(self.viewer, self.mine, "Viewer meeting")
        self._meeting(self.viewer, self.moved, "Viewer meeting before the move")
        self._meeting(self.other, self.canary, "Qzcanary meeting title")
        from apps.agenda.services import issue_calendar_feed

        self.feed_token = issue_calendar_feed(actor=self.viewer, user=self.viewer)[1]

        # Leads: the other's (canary text and name), and the viewer's, converted into a
        # customer who then moved to the other book.
        from apps.leads.models import Lead
        from tests.leads.factories import lead_in_state

        self.canary_lead = lead_in_state(
            Lead.State.ASSIGNED,
            branch=self.other_branch,
            assignee=self.other,
            text=CANARY["lead_text"],
            full_name=CANARY["lead_name"],
            email="qzcanary.lead@mail.example",
        )
        from apps.leads.services import convert_lead

        self.lead = lead_in_state(Lead.State.ASSIGNED, branch=self.branch, assignee=self.viewer)
        converted = CustomerFactory(assigned_to=self.viewer, branch=self.other_branch)
        self.lead = convert_lead(actor=self.viewer, lead=self.lead, customer=converted)
        assign_customer(actor=None, customer=converted, manager=self.other, reason="Moved to another book")
        self.moved.refresh_from_db()
        assign_customer(actor=None, customer=self.moved, manager=self.other, reason="Moved to another book")
        from apps.customers.services import update_customer

        update_customer(actor=None, customer=converted, first_name=CANARY["first_name"], last_name="Leadmoved")
        update_customer(actor=None, customer=self.moved, first_name=CANARY["first_name"], last_name="Taskmoved")

        # Alerts: the maturity scan over both books (the joint deposit alerts both managers).
        from apps.alerts.models import Alert
        from apps.alerts.scans import run_scans

        with override_settings(FINPULSE_BUSINESS_DATE=TODAY.isoformat(), FINPULSE_MATURITY_THRESHOLDS={"deposit": [7]}):
            # Maturity alerts, and the follow-up reminders (the task assigned across has one due).
            run_scans(only={"maturity", "followups"})
        self.alert = Alert.objects.filter(customer=self.mine).first() or Alert.objects.order_by("pk").first()

        # Notifications: the other's in-app notice with a canary subject; the viewer's own.
        self.notification = self._notify(self.viewer, "Viewer notice")
        # Captured email waiting for review: the viewer's own, and the other manager's about the canary.
        from apps.interactions.models import CapturedEmail

        now = timezone.now()
        waiting = CapturedEmail.Status.UNMATCHED
        self.captured = CapturedEmail.objects.create(
            owner=self.viewer, message_key="1" * 64, status=waiting, subject="Viewer email", sent_at=now
        )
        CapturedEmail.objects.create(
            owner=self.other, message_key="2" * 64, status=waiting, subject=CANARY["subject"], sent_at=now
        )
        self._notify(self.other, CANARY["notification_subject"])

        # Advice for the viewer's customer and for the canary.
        from apps.recommendations.services import recommend_for_customer

        self.advice = recommend_for_customer(actor=self.viewer, customer=self.mine)
        recommend_for_customer(actor=self.other, customer=self.canary)

        # Opportunities: the other book's, with a canary next step (on the canary customer, and on
        # the customer converted from the viewer's lead that moved away); the viewer's own.
        from tests.opportunities.factories import opportunity

        opportunity(owner=self.other, customer=self.canary, next_step=CANARY["next_step"])
        opportunity(owner=self.other, customer=converted, next_step=CANARY["next_step"] + " moved")
        opportunity(lead=self.canary_lead, next_step=CANARY["next_step"] + " on a lead")
        self.opportunity = opportunity(owner=self.viewer, customer=self.mine, next_step="Viewer next step")

        # Four eyes: a pending change about the canary customer, with a canary reason.
        from apps.approvals.services import propose_change
        from apps.products.four_eyes import RATE_CHANGE

        maker = UserFactory(roles=[roles.ADMINISTRATOR], is_staff=True, username="canary.admin")
        self.change = propose_change(
            maker=maker,
            action=RATE_CHANGE,
            payload={
                "product_id": canary_product.pk,
                "product_code": "RATE1",
                "effective_from": "2099-01-01",
                "rate": "3.1",
            },
            reason="Qzcanary reason for a change",
            customer_id=self.canary.pk,
        )
        # Saved views: the viewer's own (shared with their branch), and the other manager's,
        # shared with the other branch and named after the canary: never listed to the viewer.
        from apps.workspace.services import pin_view, save_view

        self.saved_view = save_view(actor=self.viewer, name="Viewer view", params={"segment": "mass"}, sharing="branch")
        canary_view = save_view(
            actor=self.other, name=f"{CANARY['last_name']} view", params={"segment": "mass"}, sharing="branch"
        )
        pin_view(actor=self.other, view=canary_view, pinned=True)

    def _meeting(self, organiser: Any, customer: Any, title: str) -> Any:
        """Scheduled ahead (as the service requires), then moved to today's noon so that the week
        and month pages and the feed, read now, all hold it."""
        from apps.agenda.models import Meeting
        from apps.agenda.services import schedule_meeting

        start = timezone.now() + dt.timedelta(days=1)
        meeting = schedule_meeting(
            actor=organiser,
            customer=customer,
            title=title,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            location="Branch office",
        )
        noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
        Meeting.objects.filter(pk=meeting.pk).update(starts_at=noon, ends_at=noon + dt.timedelta(hours=1))
        return meeting

    def _notify(self, user: Any, subject: str) -> Any:
        from apps.notifications.services import build_user_notifications, enqueue_notifications

        with transaction.atomic():
            (row,) = enqueue_notifications(
                build_user_notifications(
                    user_id=user.pk,
                    channels_on={"in_app"},
                    kind="task_due",
                    obj=f"canary-{user.pk}",
                    threshold=0,
                    on=TODAY,
                    subject=subject,
                    body=subject,
                    url="/",
                )
            )
        return row


# -- filling in URL keywords with the viewer's own objects ------------------------------------

# keyword -> the viewer's object id it names (the pages then render what links to the canary).
KEYWORDS: dict[str, Callable[[World], Any]] = {
    "customer_id": lambda w: w.mine.pk,
    "interaction_id": lambda w: w.interaction.pk,
    "attachment_id": lambda w: w.attachment.pk,
    "task_id": lambda w: w.task.pk,
    "alert_id": lambda w: w.alert.pk,
    "notification_id": lambda w: w.notification.pk,
    "lead_id": lambda w: w.lead.pk,
    "recommendation_id": lambda w: w.advice.pk,
    "product_id": lambda w: w.joint.product_id,
    "change_id": lambda w: w.change.pk,
    "view_id": lambda w: w.saved_view.pk,
    "captured_id": lambda w: w.captured.pk,
    "meeting_id": lambda w: w.meeting.pk,
    "token": lambda w: w.feed_token,
    "opportunity_id": lambda w: w.opportunity.pk,
}
# API detail routes name their object `pk`: by the router's basename.
API_OBJECTS: dict[str, Callable[[World], Any]] = {
    "customer": lambda w: w.mine.pk,
    "holding": lambda w: w.joint.pk,
    "interaction": lambda w: w.interaction.pk,
    "task": lambda w: w.task.pk,
    "recommendation": lambda w: w.advice.pk,
    "lead": lambda w: w.lead.pk,
    "product": lambda w: w.joint.product_id,
    "opportunity": lambda w: w.opportunity.pk,
}


def _admin_object_ids(model: Any, world: World) -> list[Any]:
    """Change pages are asked for the viewer's side and the other side of each model."""
    first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return [pk for pk in dict.fromkeys([first, last]) if pk is not None] or [0]


def _admin_model(path: str) -> Any:
    """The model of an admin route such as `admin/customers/customer/<path:object_id>/change/`."""
    from django.apps import apps

    match = re.match(r"admin/(\w+)/(\w+)/", path)
    if match is None:
        return None
    try:
        return apps.get_model(match.group(1), match.group(2))
    except LookupError:
        return None


class Unfillable(Exception):
    pass


def _url(name: str, path: str, kwargs: dict[str, Any]) -> str:
    """The URL of a route: reversed by name, or (an unnamed route) its pattern filled in."""
    if name and not name.endswith(":"):
        return reverse(name, kwargs=kwargs)
    filled = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), path)
    filled = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), filled)
    return "/" + filled.replace("^", "").replace("$", "")


def _keyword_sets(name: str, path: str, keywords: list[str], world: World) -> list[dict[str, Any]]:
    """The values to fill in for a route's keywords (Unfillable if the test does not know them)."""
    if not keywords:
        return [{}]
    if name.startswith("api:"):
        basename = name.removeprefix("api:").rsplit("-", 1)[0]
        if keywords == ["pk"] and basename in API_OBJECTS:
            return [{"pk": API_OBJECTS[basename](world)}]
        raise Unfillable(f"API keywords {keywords} (basename {basename!r})")
    if path.startswith("admin/"):
        if keywords == ["url"]:
            return [{"url": "no-such-page/"}]
        if keywords == ["app_label"]:
            return [{"app_label": label} for label in sorted({m._meta.app_label for m in admin.site._registry})]
        if keywords == ["content_type_id", "object_id"]:
            from django.contrib.contenttypes.models import ContentType

            from apps.customers.models import Customer

            content_type = ContentType.objects.get_for_model(Customer).pk
            return [{"content_type_id": content_type, "object_id": pk} for pk in (world.mine.pk, world.canary.pk)]
        model = _admin_model(path)
        if model is not None and len(keywords) == 1 and keywords[0] in ("object_id", "id", "pk"):
            return [{keywords[0]: pk} for pk in _admin_object_ids(model, world)]
        raise Unfillable(f"admin keywords {keywords}")
    if all(k in KEYWORDS for k in keywords):
        return [{k: KEYWORDS[k](world) for k in keywords}]
    raise Unfillable(f"keywords {[k for k in keywords if k not in KEYWORDS]}")


def urls_for(name: str, path: str, pattern: URLPattern, world: World) -> list[str]:
    """Every URL to request for one route, its keywords filled in (Unfillable if they cannot be)."""
    if name == "api:not_found":
        return ["/api/v1/no-such-resource/"]
    keywords = sorted(pattern.pattern.regex.groupindex)
    return [_url(name, path, kwargs) for kwargs in _keyword_sets(name, path, keywords, world)]


# Searches: every route without keywords is asked again with each search term as `q` and
# `search` (pages and admin lists read `q`); the customer list also with the canary's email,
# phone and ids, which it matches through the blind index.
SEARCH_TERMS = (CANARY["last_name"], CANARY["external_id"], CANARY["email"], CANARY["phone"], CANARY["national_id"])


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _decoded(text: str) -> str:
    """The text as a person would read it: HTML entities and (nested) URL escapes undone."""
    text = html.unescape(text)
    for _ in range(3):
        text = unquote_plus(text)
    return text


def leaks_in(response: Any, term: str | None = None, *, catalog: bool = False) -> list[str]:
    """Canaries in the response's body or headers. The search term the viewer typed is taken
    out first (a page may echo it back: "no customer matches …", a `next=` link); on the
    catalog's own routes the catalog canary (a product) is allowed, every other one is not."""
    markers = (MARKER,) if catalog else (MARKER, CATALOG_MARKER)
    found = []
    for where, raw in (
        ("body", _body(response).decode("utf-8", errors="replace")),
        ("headers", "\n".join(f"{key}: {value}" for key, value in response.items())),
    ):
        content = _decoded(raw)
        if term:
            for echo in (term, _decoded(term), _decoded(term.replace("+", "%2B"))):
                content = content.replace(echo, "")
        lowered = content.lower()
        for marker in markers:
            if marker in lowered:
                at = lowered.index(marker)
                found.append(f"{where}: …{content[max(0, at - 80) : at + 60]}…")
        if PHONE_DIGITS in re.sub(r"\D", "", content):
            found.append(f"{where}: the canary's phone number")
    return found


def crawl(client: Client, world: World) -> tuple[list[str], list[str], dict[str, int]]:
    """Request every route; (leaks, routes that could not be filled in, status counts)."""
    leaks: list[str] = []
    unfillable: list[str] = []
    statuses: dict[str, int] = {}

    def visit(url: str, term: str | None = None, catalog: bool = False, **headers: str) -> None:
        try:
            response = client.get(url, **headers)
        except Exception as error:  # a crash is a finding too, never a silent skip
            leaks.append(f"{url} {headers or ''}: raised {type(error).__name__}: {error}")
            return
        statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
        if response.status_code >= 500:
            leaks.append(f"{url}: answered {response.status_code}")
        for leak in leaks_in(response, term, catalog=catalog):
            leaks.append(f"{url} {headers or ''}-> {response.status_code} {leak}")

    for path, name, pattern in all_routes():
        if name in ("logout", "oidc_logout", "admin:logout"):
            continue  # ends the viewer's own session; it renders nothing of anyone's book
        try:
            urls = urls_for(name, path, pattern, world)
        except Unfillable as why:
            unfillable.append(f"{name or '(unnamed)'} ({path}): {why}")
            continue
        catalog = name in CATALOG_ROUTES
        for url in urls:
            visit(url, catalog=catalog)
            if not path.startswith(("admin/", "api/")):
                visit(url, catalog=catalog, HTTP_HX_REQUEST="true")
            if not pattern.pattern.regex.groupindex:
                for term in SEARCH_TERMS:
                    visit(f"{url}?{urlencode({'q': term, 'search': term})}", term=term, catalog=catalog)
    return leaks, unfillable, statuses


@pytest.fixture
def world(db, settings) -> World:  # type: ignore[no-untyped-def]
    settings.FINPULSE_ADMIN_REQUIRE_TOTP = False
    return World()


def test_the_canary_is_rendered_to_its_own_manager(world, client):
    # The detector works: the other manager sees their own canaries on their customer's page.
    client.force_login(world.other)

    response = client.get(reverse("customers:detail", args=[world.canary.pk]))

    assert leaks_in(response)


@pytest.mark.parametrize("viewer", ["relationship manager", "branch manager of another branch"])
def test_no_canary_of_another_book_appears_on_any_route(world, client, viewer):
    user = world.viewer if viewer == "relationship manager" else world.branch_manager
    client.force_login(user)

    leaks, unfillable, statuses = crawl(client, world)

    assert not unfillable, "the canary test cannot fill in these routes: " + "; ".join(unfillable)
    assert not leaks, f"{len(leaks)} leak(s):\n" + "\n".join(leaks[:60])
    # The crawl did render pages (not a wall of redirects), including the viewer's own
    # customer page, the lead that points at a moved customer, and the API.
    assert statuses.get("200", 0) > 40, statuses
    page = client.get(reverse("leads:detail", args=[world.lead.pk]))
    assert "a customer outside your book" in page.text
