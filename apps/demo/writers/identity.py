"""Demo branches and staff (audited like every write); passwords are never audited or logged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from apps.core.audit import record_audit_event
from apps.core.errors import DomainError
from apps.demo.catalog import BRANCHES, DEFAULT_DEMO_PASSWORD, USERS, BranchSpec, UserSpec
from apps.demo.report import SeedReport
from apps.identity import roles
from apps.identity.models import Branch

if TYPE_CHECKING:
    from apps.identity.models import User


def demo_password() -> str:
    return getattr(settings, "FINPULSE_DEMO_PASSWORD", "") or DEFAULT_DEMO_PASSWORD


@transaction.atomic
def create_demo_branch(*, actor: User | None, spec: BranchSpec) -> Branch:
    """Open a demo branch (audited like every write)."""
    branch = Branch.objects.create(code=spec.code, name=spec.name, city=spec.city)
    record_audit_event(actor=actor, action="branch.created", target=branch, changes={"code": [None, spec.code]})
    return branch


@transaction.atomic
def create_demo_user(*, actor: User | None, spec: UserSpec, branch: Branch | None, password: str) -> Any:
    """Create a demo employee in their role group; the password is never audited or logged."""
    group = Group.objects.filter(name=spec.role).first()
    if group is None:
        raise DomainError(f"The role group {spec.role!r} is missing: run `manage.py migrate` first.")
    user = get_user_model()(
        username=spec.username,
        first_name=spec.first_name,
        last_name=spec.last_name,
        email=f"{spec.username}@finpulse.example",
        branch=branch,
        is_staff=roles.is_staff_for([spec.role], is_superuser=spec.is_superuser),
        is_superuser=spec.is_superuser,
    )
    user.set_password(password)
    user.save()
    user.groups.set([group])
    record_audit_event(
        actor=actor,
        action="user.created",
        target=user,
        changes={"username": [None, spec.username]},
        metadata={"roles": [spec.role], "branch": spec.branch_code, "superuser": spec.is_superuser, "demo": True},
    )
    return user


def ensure_branches(report: SeedReport) -> dict[str, Branch]:
    branches = {b.code: b for b in Branch.objects.filter(code__in=[s.code for s in BRANCHES])}
    for spec in BRANCHES:
        if spec.code not in branches:
            branches[spec.code] = create_demo_branch(actor=None, spec=spec)
            report.created["branches"] += 1
    return branches


def ensure_users(branches: dict[str, Branch], report: SeedReport) -> dict[str, Any]:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[s.username for s in USERS])}
    password = demo_password()
    for spec in USERS:
        if spec.username not in users:
            branch = branches[spec.branch_code] if spec.branch_code else None
            users[spec.username] = create_demo_user(actor=None, spec=spec, branch=branch, password=password)
            report.created["users"] += 1
    return users
