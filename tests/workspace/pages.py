"""Every page of the manager workspace, filled with objects in every state, for page-wide checks.

`build_world(manager)` seeds through the real services: holdings in each role, interactions on
every channel, tasks from every source (with their rule codes), alerts from a real scan, leads in
every state, a notification. `page_urls(world)` lists each GET page of the URL conf with those
objects; tests render them as each role and read the text a person sees (`visible_text`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.accounts.models import Holding, HoldingParty
from apps.interactions.models import Interaction
from apps.leads.models import Lead
from apps.tasks.models import Task
from tests.accounts.factories import HoldingFactory
from tests.alerts.support import TODAY, deposit, deposit_product, document
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory
from tests.leads.factories import lead_in_state
from tests.tasks.factories import TaskFactory
from tests.workspace.support import at

# Pages that are not part of a person's day (probes, sign-in plumbing, file downloads, public forms).
NOT_WORKSPACE_PAGES = {
    "healthz",
    "readyz",
    "metrics",
    "login",
    "logout",
    "logged_out",
    "break_glass",
    "two_factor",
    "oidc_authentication_callback",
    "oidc_authentication_init",
    "oidc_logout",
    "interactions:attachment",
    "interactions:download",
    "notifications:read",
}


@dataclass
class World:
    manager: Any
    customer: Any
    ids: dict[str, list[int]] = field(default_factory=dict)


def build_world(manager: Any) -> World:
    """One customer of `manager` with something in every state the pages show."""
    from apps.alerts.scans import run_scans
    from apps.notifications.services import build_user_notifications, enqueue_notifications

    person = CustomerFactory(
        assigned_to=manager,
        first_name="Penelope",
        last_name="Ashcroft",
        kyc_review_date=TODAY + dt.timedelta(days=1),
        customer_since=TODAY - dt.timedelta(days=400),
    )
    partner = CustomerFactory(assigned_to=manager, first_name="Hugo", last_name="Ashcroft")
    product = deposit_product()
    deposit(person, product, 1)
    deposit(person, product, 7)
    for role in HoldingParty.Role.values:
        HoldingFactory(customer=person, role=role, category=Holding.Category.CURRENT_ACCOUNT, balance=Decimal("10.00"))
    HoldingFactory(customer=person, category=Holding.Category.LOAN, balance=Decimal("-2500.00"))
    document(person, 1)
    interactions = [
        InteractionFactory(customer=person, author=manager, channel=channel, occurred_at=at(TODAY, 9))
        for channel in Interaction.Channel.values
    ]
    tasks = [
        TaskFactory(
            customer=person,
            assignee=manager,
            source=source,
            source_rule="" if source == Task.Source.MANUAL else f"{source}:30d",
            source_object=str(n),
            due_at=at(TODAY + dt.timedelta(days=n - 2)),
        )
        for n, source in enumerate(Task.Source.values)
    ]
    with override_settings(FINPULSE_BUSINESS_DATE=TODAY.isoformat()):
        run_scans()
    leads = [
        lead_in_state(state, branch=manager.branch, assignee=manager, actor=manager) for state in Lead.State.values
    ]
    with transaction.atomic():
        (note,) = enqueue_notifications(
            build_user_notifications(
                user_id=manager.pk,
                channels_on={"in_app"},
                kind="task_due",
                obj="world",
                threshold=0,
                on=TODAY,
                subject="A task is due",
                body="",
                url=person.get_absolute_url(),
            )
        )
    from apps.alerts.models import Alert

    ids = {
        "customer_id": [person.pk, partner.pk],
        "interaction_id": [i.pk for i in interactions],
        "task_id": [t.pk for t in tasks],
        "lead_id": [lead.pk for lead in leads],
        "alert_id": list(Alert.objects.filter(customer=person).values_list("pk", flat=True)),
        "notification_id": [note.pk],
        "product_id": [product.pk],
    }
    return World(manager=manager, customer=person, ids=ids)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, URLPattern]]:
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            routes += _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            routes.append((namespace + (pattern.name or ""), pattern))
    return routes


def page_urls(world: World) -> list[str]:
    """Every workspace route, once per object of each kind its URL names."""
    urls = []
    for name, pattern in _walk(get_resolver().url_patterns):
        if not name or name.startswith(("admin:", "api")) or name in NOT_WORKSPACE_PAGES or ":" not in name:
            continue
        keywords = sorted(pattern.pattern.regex.groupindex)
        if any(k not in world.ids for k in keywords):
            continue
        if not keywords:
            urls.append(reverse(name))
            continue
        count = max(len(world.ids[k]) for k in keywords)
        for n in range(count):
            urls.append(reverse(name, kwargs={k: world.ids[k][min(n, len(world.ids[k]) - 1)] for k in keywords}))
    return urls


class _Text(HTMLParser):
    """Text a person reads: text nodes and the attributes a browser shows (title, aria-label, ...)."""

    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value:
                self.nodes.append(value.strip())
            if tag == "input" and name == "value" and value and dict(attrs).get("type") in ("submit", "button"):
                self.nodes.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def visible_text(page: str) -> list[str]:
    parser = _Text()
    parser.feed(html.unescape(page) if False else page)
    return parser.nodes


def enum_codes() -> dict[str, str]:
    """Every stored choice value of our models that reads differently from its label."""
    codes: dict[str, str] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("apps."):
            continue
        for model_field in model._meta.get_fields():
            choices = getattr(model_field, "choices", None)
            if not isinstance(model_field, models.Field) or not choices:
                continue
            for value, label in model_field.flatchoices:
                if isinstance(value, str) and value and value != str(label):
                    codes[value] = f"{model.__name__}.{model_field.name}"
    return codes


RAW = [
    (re.compile(r"\b[a-z]+(?:_[a-z]+)*:\d+d\b"), "a rule code"),
    (re.compile(r"\b(?:task|alerts|lead|maturity|kyc_review|document_expiry|relationship):[a-z_]+\b"), "a rule code"),
    (re.compile(r"\b\d+:\d{2}:\d{2}\.\d+"), "a Python duration"),
    (re.compile(r"\b\d+ days?, \d+:\d{2}:\d{2}"), "a Python duration"),
    (re.compile(r"(?<![\d,.])1 (?:days|hours|minutes|weeks|months|years)\b"), "a wrong plural"),
    (re.compile(r"\(s\)"), "a '(s)' plural"),
    (re.compile(r"object at 0x|<QuerySet|Decimal\('|datetime\.|\bNone\b|\{'|\[\]"), "a Python repr"),
]


def raw_codes_in(page: str, codes: dict[str, str]) -> list[str]:
    """What a person should never read on `page`: codes, enum values, durations, reprs."""
    found = []
    for node in visible_text(page):
        for pattern, what in RAW:
            match = pattern.search(node)
            if match:
                found.append(f"{what}: {match.group(0)!r} in {node[:120]!r}")
        if node in codes:
            found.append(f"the enum value {node!r} of {codes[node]}")
    return found
