from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Holding
from apps.approvals.services import approve_change
from apps.break_glass.services import request_break_glass
from apps.customers.models import IdentityDocument
from apps.customers.services import add_identity_document, assign_customer
from apps.identity import roles
from apps.interactions.models import Interaction
from apps.tasks.models import Task
from apps.tasks.services import complete_task
from apps.workspace.selectors import RECENT_INTERACTIONS, SECTION_LIMIT
from tests.accounts.factories import HoldingFactory
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.interactions.factories import InteractionFactory
from tests.tasks.factories import TaskFactory
from tests.workspace.support import (
    TODAY,
    at,
    inline_handlers_or_styles,
    inline_scripts,
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
    seed_customer_day,
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")


def day_of(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    response = client.get(reverse("workspace:dashboard"))
    assert response.status_code == 200
    return response


def test_the_home_page_is_the_dashboard_and_needs_a_login(client, manager):
    assert client.get("/").status_code == 302
    assert "My day" in day_of(client, manager).content.decode()


def test_tasks_due_today_and_overdue_are_listed_with_their_rule_and_date(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    TaskFactory(customer=customer, assignee=manager, title="Overdue call", due_at=at(TODAY - dt.timedelta(days=3)))
    TaskFactory(customer=customer, assignee=manager, title="Today call", due_at=at(TODAY, 15))
    TaskFactory(customer=customer, assignee=manager, title="Tomorrow call", due_at=at(TODAY + dt.timedelta(days=1)))

    response = day_of(client, manager)

    tasks = response.context["day"].tasks.items
    assert [t.title for t in tasks] == ["Overdue call", "Today call"]
    assert tasks[0].is_overdue and not tasks[1].is_overdue
    assert tasks[0].rule.startswith("Overdue task") and tasks[1].rule.startswith("Task due today")
    html = response.content.decode()
    assert "Tomorrow call" not in html
    assert customer.get_absolute_url() in html
    assert "27 Feb 2026" in html  # the date that put the overdue task on the list


def test_holdings_maturing_within_30_days_are_listed_and_later_ones_are_not(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    soon = HoldingFactory(
        customer=customer,
        category=Holding.Category.TERM_DEPOSIT,
        maturity_date=TODAY + dt.timedelta(days=30),
        balance=Decimal("25000.00"),
    )
    later = TODAY + dt.timedelta(days=31)
    HoldingFactory(customer=customer, category=Holding.Category.TERM_DEPOSIT, maturity_date=later)

    items = day_of(client, manager).context["day"].maturing_holdings.items

    assert len(items) == 1
    assert items[0].customer_id == customer.pk
    assert items[0].date == soon.maturity_date
    assert items[0].rule_code == "maturity:30d"
    assert items[0].amount.amount == Decimal("25000.00")


def test_identity_documents_expiring_soon_are_listed_with_their_expiry_date(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    for days in (-5, 45, 200):
        add_identity_document(
            actor=None,
            customer=customer,
            document_type=IdentityDocument.DocumentType.PASSPORT,
            number=f"P{days + 1000}",
            issuing_country="GB",
            expiry_date=TODAY + dt.timedelta(days=days),
        )

    items = day_of(client, manager).context["day"].expiring_documents.items

    assert [(i.date, i.is_overdue) for i in items] == [
        (TODAY - dt.timedelta(days=5), True),
        (TODAY + dt.timedelta(days=45), False),
    ]
    assert items[0].rule == "Identity document expired"


def test_kyc_reviews_due_are_listed(client, manager):
    due = CustomerFactory(assigned_to=manager, kyc_review_date=TODAY + dt.timedelta(days=3))
    CustomerFactory(assigned_to=manager, kyc_review_date=TODAY + dt.timedelta(days=300))

    items = day_of(client, manager).context["day"].kyc_reviews.items

    assert [i.customer_id for i in items] == [due.pk]


def test_the_dashboard_shows_nothing_of_another_managers_customers(client, manager, other_manager):
    theirs = seed_customer_day(other_manager, last_name="Elsewhere")
    InteractionFactory(customer=theirs, subject="Their private call")

    response = day_of(client, manager)

    day = response.context["day"]
    assert not (day.tasks.items or day.maturing_holdings.items or day.expiring_documents.items or day.kyc_reviews.items)
    assert "Elsewhere" not in response.content.decode()
    assert "Their private call" not in response.content.decode()


def test_recent_interactions_of_my_customers_are_listed(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    InteractionFactory(customer=customer, subject="Discussed the ISA allowance")

    html = day_of(client, manager).content.decode()

    assert "Discussed the ISA allowance" in html


def test_a_section_too_long_for_the_page_offers_the_full_list(client, manager):
    customer = CustomerFactory(assigned_to=manager)
    for n in range(SECTION_LIMIT + 1):
        TaskFactory(customer=customer, assignee=manager, title=f"Call {n}", due_at=at(TODAY))

    section = day_of(client, manager).context["day"].tasks

    assert len(section.items) == SECTION_LIMIT
    assert section.has_more


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("manager", {"mine"}),
        ("branch_manager", {"mine", "colleague's"}),
        ("compliance_officer", {"mine", "colleague's", "other branch's"}),
    ],
)
def test_every_section_lists_exactly_the_customers_the_user_may_see(
    request, client, manager, other_manager, role, sees
):
    far_manager = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="manager.far")
    people = {
        "mine": seed_customer_day(manager),
        "colleague's": seed_customer_day(other_manager),
        "other branch's": seed_customer_day(far_manager),
    }
    for person in people.values():
        InteractionFactory(customer=person)
    expected = {people[name].pk for name in sees}

    day = day_of(client, request.getfixturevalue(role)).context["day"]

    for section in (day.maturing_holdings, day.expiring_documents, day.kyc_reviews):
        assert {item.customer_id for item in section.items} == expected, section.title
    assert {interaction.customer_id for interaction in day.recent_interactions} == expected
    # Tasks are the user's own: only the manager has any, and only on their customers.
    assert {item.customer_id for item in day.tasks.items} == ({people["mine"].pk} if role == "manager" else set())


def test_a_task_on_a_customer_moved_to_another_manager_leaves_my_day(client, manager, other_manager):
    customer = seed_customer_day(manager)
    assign_customer(actor=None, customer=customer, manager=other_manager, reason="Holiday cover")

    day = day_of(client, manager).context["day"]

    assert Task.objects.filter(customer=customer, assignee=manager, status=Task.Status.OPEN).exists()
    assert day.tasks.items == []  # the task is still mine, but the customer is not any more
    assert not (day.maturing_holdings.items or day.expiring_documents.items or day.kyc_reviews.items)


@pytest.mark.parametrize("customers", [3, 30])
def test_the_dashboard_runs_a_fixed_number_of_queries(
    client, manager, customers, django_assert_max_num_queries, cache_queries
):
    for _ in range(customers):
        seed_customer_day(manager, holdings=2)
    client.force_login(manager)
    client.get("/")  # the session's first page also renews its idle timeout (a write, once a minute)

    # The user and their roles, the four work sections in one statement, interactions,
    # notifications, leads and pinned views.
    with django_assert_max_num_queries(7 + cache_queries):
        response = client.get("/")

    day = response.context["day"]
    assert len(day.tasks.items) == min(customers, SECTION_LIMIT)
    assert len(day.maturing_holdings.items) == min(customers * 2, SECTION_LIMIT)


def test_the_four_work_sections_come_in_one_statement_each_in_its_own_order(client, manager):
    for n in range(4):
        seed_customer_day(manager, holdings=3, last_name=f"Order{n}")
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        day = client.get("/").context["day"]

    statements = [q["sql"] for q in queries.captured_queries if "tasks_task" in q["sql"]]
    assert len(statements) == 1
    for table in ("accounts_holding", "customers_identitydocument", "kyc_review_date"):
        assert table in statements[0]
    assert statements[0].count("UNION ALL") >= 3
    maturing = day.maturing_holdings.items
    assert [item.date for item in maturing] == sorted(item.date for item in maturing)
    assert all(isinstance(item.amount.amount, Decimal) and item.amount.currency for item in maturing)
    assert [item.date for item in day.expiring_documents.items] == sorted(i.date for i in day.expiring_documents.items)
    assert [item.date for item in day.kyc_reviews.items] == sorted(i.date for i in day.kyc_reviews.items)
    assert [item.date for item in day.tasks.items] == sorted(i.date for i in day.tasks.items)
    assert {item.title for item in day.tasks.items} == {f"Call {c.display_name}" for c in _customers_of(manager)}


def _customers_of(manager):  # type: ignore[no-untyped-def]
    from apps.customers.visibility import visible_customers

    return visible_customers(user=manager)


def test_the_dashboard_has_a_csp_header_and_no_inline_script(client, manager):
    seed_customer_day(manager)

    response = day_of(client, manager)

    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert inline_scripts(html) == []
    assert inline_handlers_or_styles(html) == []


# --- recent interactions: the latest of the book, read customer by customer -------------------


def test_recent_interactions_are_the_books_latest_across_customers_newest_first(client, manager, other_manager):
    busy, quiet = CustomerFactory(assigned_to=manager), CustomerFactory(assigned_to=manager)
    now = timezone.now()
    for n in range(RECENT_INTERACTIONS + 2):  # more than the page shows, on one customer
        InteractionFactory(customer=busy, subject=f"Busy {n}", occurred_at=now - dt.timedelta(hours=2 * n + 1))
    InteractionFactory(customer=quiet, subject="Quiet newest", occurred_at=now - dt.timedelta(minutes=5))
    InteractionFactory(customer=quiet, subject="Quiet middle", occurred_at=now - dt.timedelta(hours=4))
    theirs = CustomerFactory(assigned_to=other_manager)
    InteractionFactory(customer=theirs, subject="Another book's call", occurred_at=now)

    shown = day_of(client, manager).context["day"].recent_interactions

    expected = sorted(
        Interaction.objects.filter(customer__in=[busy, quiet]), key=lambda i: (i.occurred_at, i.pk), reverse=True
    )[:RECENT_INTERACTIONS]
    assert [i.pk for i in shown] == [i.pk for i in expected]
    assert shown[0].subject == "Quiet newest" and "Quiet middle" in [i.subject for i in shown]
    assert "Another book's call" not in [i.subject for i in shown]


def test_a_confidential_interaction_stays_hidden_from_whom_it_was_hidden(client, manager, settings):
    """Opened by break-glass, a customer is in the manager's book but they are not its primary
    manager: its confidential interactions by others stay hidden, even when they are the newest
    ten, and its readable ones behind them are still shown; their own confidential ones show."""
    owner = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="owner.rm")
    boss = UserFactory(roles=[roles.BRANCH_MANAGER], branch=owner.branch, username="owner.bm")
    opened = CustomerFactory(assigned_to=owner, external_id="BG-0001")
    mine = CustomerFactory(assigned_to=manager)
    now = timezone.now()
    for n in range(RECENT_INTERACTIONS + 1):
        InteractionFactory(
            customer=opened, is_confidential=True, subject=f"Secret {n}", occurred_at=now - dt.timedelta(minutes=n)
        )
    InteractionFactory(customer=opened, subject="Open older call", occurred_at=now - dt.timedelta(days=2))
    InteractionFactory(
        customer=mine,
        author=manager,
        is_confidential=True,
        subject="My own secret",
        occurred_at=now - dt.timedelta(days=3),
    )
    settings.FINPULSE_BREAK_GLASS_HOURS = 2
    approve_change(checker=boss, change=request_break_glass(actor=manager, external_id="BG-0001", reason="At my desk"))

    subjects = [i.subject for i in day_of(client, manager).context["day"].recent_interactions]
    owners = [i.subject for i in day_of(client, owner).context["day"].recent_interactions]

    assert subjects == ["Open older call", "My own secret"]
    assert owners[:RECENT_INTERACTIONS] == [f"Secret {n}" for n in range(RECENT_INTERACTIONS)]


def test_the_cached_rows_print_what_the_filters_print_and_show_a_change_at_once(client, manager):
    """The rows are cached by their values (decision 146): dates as time_tag prints them, amounts
    as the money filter does, and a new interaction or a renamed customer shows on the next load."""
    from django.utils.timezone import template_localtime

    from apps.core.templatetags.finpulse import format_money, time_tag

    customer = seed_customer_day(manager, holdings=1, last_name="Before")
    logged = InteractionFactory(customer=customer, subject="Rates call", next_step="Send the form")
    first = day_of(client, manager)
    html = first.content.decode()

    holding = first.context["day"].maturing_holdings.items[0]
    assert format_money(holding.amount.amount, holding.amount.currency) in html
    assert str(time_tag(holding.date)) in html
    assert str(time_tag(template_localtime(logged.occurred_at))) in html
    assert "next: Send the form" in html

    InteractionFactory(customer=customer, subject="Follow-up call")
    before = customer.display_name
    customer.last_name = "After"
    customer.display_name = customer.compose_display_name()
    customer.save(update_fields=["last_name", "display_name"])
    html = day_of(client, manager).content.decode()

    assert "Follow-up call" in html
    assert f'">{customer.display_name}</a>' in html and f'">{before}</a>' not in html


def test_a_managers_recent_interactions_read_as_the_orm_reads_them(client, manager):
    """The outer read of a manager's recent interactions is compiled once per process (decision 175)
    and read as values (decision 186): each row equals what the ORM's own queryset over
    visible_interactions gives, field by field, its customer's name and its author's as the page
    names them included, for two managers in turn (the text is shared, the ids are not)."""
    from apps.core.templatetags.finpulse import person_name
    from apps.interactions.selectors import visible_interactions

    other = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=manager.branch, username="second.rm")
    nameless = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], first_name="", last_name="", username="nameless.rm")
    now = timezone.now()
    for who in (manager, other):
        for n in range(RECENT_INTERACTIONS + 3):
            customer = CustomerFactory(assigned_to=who)
            InteractionFactory(
                customer=customer,
                author=nameless if n == 1 else who,
                subject=f"{who.username} {n}",
                next_step="Call back" if n % 2 else "",
                is_confidential=n % 3 == 0,
                occurred_at=now - dt.timedelta(minutes=7 * n),
            )
    fields = ("pk", "customer_id", "channel", "occurred_at", "subject", "next_step")
    for who in (manager, other, manager):
        shown = day_of(client, who).context["day"].recent_interactions
        expected = list(
            visible_interactions(user=who)
            .select_related("customer", "author")
            .order_by("-occurred_at", "-id")[:RECENT_INTERACTIONS]
        )
        assert len(shown) == RECENT_INTERACTIONS
        assert [[getattr(i, f) for f in fields] for i in shown] == [[getattr(i, f) for f in fields] for i in expected]
        assert [i.customer_name for i in shown] == [i.customer.display_name for i in expected]
        assert [i.author_name for i in shown] == [person_name(i.author) for i in expected]
        assert "nameless.rm" in [i.author_name for i in shown]


def _layout(html: str) -> str:
    return html[html.index('<div class="layout-day">') : html.index("</main>")]


def test_the_kept_panels_follow_the_language_and_show_a_finished_task_at_once(client, manager):
    """The slot and the five panels are one kept entry (decision 181): another language or a task
    done is another entry, and the words are the active language's each time."""
    customer = seed_customer_day(manager, holdings=1)
    task = TaskFactory(customer=customer, due_at=at(TODAY, 9), title="Call back today")
    client.force_login(manager)

    english = client.get("/").content.decode()
    client.cookies["finpulse_language"] = "it"
    italian = client.get("/").content.decode()
    client.cookies["finpulse_language"] = "en-gb"
    again = client.get("/").content.decode()
    complete_task(actor=manager, task=task, outcome="Called")
    done = client.get("/").content.decode()

    assert "Tasks due today and overdue" in english and "Today&#x27;s meetings" not in english
    assert "Today's meetings" in english and "See all" not in english
    assert "Tasks due today and overdue" not in italian and "Call back today" in italian
    assert _layout(again) == _layout(english)  # the page's CSRF token is another each time
    assert '<span class="count">2</span>' in english and '<span class="count">1</span>' in done
    assert "Call back today" not in done
