"""Item 16 of issue #15: each role sees only the actions it may take.

A compliance officer reads everything and writes nothing: no page shows them a form that posts,
except revealing personal data (audited), signing out, their own notifications, and proposing a
data subject's erasure (GDPR Art. 17: compliance's own duty, four eyes, apps/privacy).
"""

from __future__ import annotations

import re

import pytest

from tests.workspace.pages import build_world, page_urls
from tests.workspace.support import (
    pinned_today,  # noqa: F401  (fixture)
    plain_static_files,  # noqa: F401  (fixture)
    role_permissions,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("plain_static_files", "pinned_today", "role_permissions")

_POST_FORM = re.compile(r"<form\b[^>]*>", re.I)
_HX_WRITE = re.compile(r"\bhx-(?:post|put|patch|delete)=\"([^\"]*)\"", re.I)
# Revealing (audited, with a reason), signing out, one's own notifications, the public lead form,
# proposing an erasure on a data-subject request, one's own calendar feed address (no customer data),
# one's own interface language.
ALLOWED_ACTIONS = re.compile(
    r"/reveal/$|^/accounts/logout/|^/notifications/|^/leads/apply/$|^/privacy/customers/\d+/$|^/calendar/feed/$"
    r"|^/i18n/setlang/$"
)
WRITE_WORDS = re.compile(
    r">\s*(Save|Mark done|Reschedule|Reassign|Assign|Snooze|Dismiss|Acknowledge|Convert|Reject|Log an interaction|"
    r"New task|Add a task|Refresh advice|Correct|Edit)\s*<",
    re.I,
)


def write_actions(page: str, url: str = "") -> list[str]:
    found = []
    for tag in _POST_FORM.findall(page):
        if re.search(r'method="post"', tag, re.I) or _HX_WRITE.search(tag):
            action = re.search(r'(?:action|hx-post)="([^"]*)"', tag)
            target = action.group(1) if action and action.group(1) else url
            if not ALLOWED_ACTIONS.search(target):
                found.append(tag[:160])
    for target in _HX_WRITE.findall(page):
        if not ALLOWED_ACTIONS.search(target):
            found.append(f"hx write to {target}")
    if not (url and ALLOWED_ACTIONS.search(url)):  # e.g. "Save" on one's own notification settings
        found += [f"button {m.group(1)!r}" for m in WRITE_WORDS.finditer(page)]
    return found


def test_a_compliance_officer_sees_no_write_form_or_button_anywhere(client, manager, compliance_officer):
    world = build_world(manager)
    client.force_login(compliance_officer)

    problems = {}
    for url in page_urls(world):
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            found = write_actions(response.content.decode(), url)
            if found:
                problems[url] = sorted(set(found))

    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


def test_the_manager_who_owns_the_customer_does_see_the_write_actions(client, manager):
    world = build_world(manager)
    client.force_login(manager)

    page = client.get(world.customer.get_absolute_url()).content.decode()
    tasks = client.get("/tasks/").content.decode()

    assert write_actions(tasks)  # the check above finds forms when there are some
    assert 'name="reason"' in page


@pytest.mark.parametrize("url", ["/tasks/new/", "customers/{pk}/interactions/new/", "customers/{pk}/tasks/new/"])
def test_a_compliance_officer_opening_a_write_form_is_told_why(client, manager, compliance_officer, url):
    from tests.customers.factories import CustomerFactory

    customer = CustomerFactory(assigned_to=manager)
    client.force_login(compliance_officer)

    response = client.get("/" + url.lstrip("/").format(pk=customer.pk))

    assert response.status_code == 403
    assert "Your role reads customer records but does not change them." in response.content.decode()


def test_a_relationship_managers_branch_filter_lists_only_branches_they_can_see(client, manager, other_manager):
    from tests.customers.factories import CustomerFactory
    from tests.identity.factories import BranchFactory

    elsewhere = BranchFactory(name="Faraway Branch")
    CustomerFactory(assigned_to=manager)
    CustomerFactory(branch=elsewhere)
    client.force_login(manager)

    page = client.get("/customers/").content.decode()

    assert manager.branch.name in page
    assert "Faraway Branch" not in page
