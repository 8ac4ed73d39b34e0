"""Every write about who may use FinPulse: SSO users and their roles, and the sign-in audit trail.

A user from the bank's identity provider is found by (issuer, subject), never by email: an
email address can be reassigned to another person, a subject cannot. Roles and branch are
copied from the provider's claims at every sign-in (and silent refresh, and API call), so a
role removed at the provider is removed here at the next contact.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.audit import AuditEntry, record_audit_event, record_audit_events
from apps.core.errors import DomainError
from apps.identity import roles
from apps.identity.claims import LoginRefused, MappedIdentity
from apps.identity.models import Branch, User
from apps.identity.user_facts import forget_user


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


def _free_username(hint: str, identity: MappedIdentity) -> str:
    base = (hint or identity.subject)[:120]
    if not User.objects.filter(username=base).exists():
        return base
    # Someone else holds that name (e.g. a reused email): keep it readable and unique.
    digest = hashlib.sha256(f"{identity.issuer}|{identity.subject}".encode()).hexdigest()[:10]
    return f"{base}-{digest}"


def _resolve_branch(identity: MappedIdentity) -> Branch | None:
    if identity.branch_code is None:
        return None
    branch = Branch.objects.filter(code=identity.branch_code, is_active=True).first()
    if branch is None:
        raise LoginRefused(
            "unknown_branch",
            f"Your bank account names branch {identity.branch_code!r}, which FinPulse does not know. "
            "Ask the access team to correct it.",
            subject=identity.subject,
            username=identity.username_hint,
        )
    return branch


@transaction.atomic
def sync_user_from_identity(*, identity: MappedIdentity, source: str) -> User:
    """Find or create the user for this (issuer, subject) and copy roles and branch from the claims.

    Refuses (LoginRefused) a deactivated user, an unknown branch, and, when OIDC_CREATE_USER
    is off, a person FinPulse has not been told about. Records `user.created` and/or
    `user.roles_synced` only when something changed.
    """
    branch = _resolve_branch(identity)
    user = (
        User.objects.select_for_update(of=("self",))
        .filter(oidc_issuer=identity.issuer, oidc_subject=identity.subject)
        .select_related("branch")
        .first()
    )
    entries: list[AuditEntry] = []
    if user is None:
        if not settings.OIDC_CREATE_USER:
            raise LoginRefused(
                "unknown_user",
                "FinPulse has no account for you yet. Ask the access team to create one.",
                subject=identity.subject,
                username=identity.username_hint,
            )
        user = User(
            username=_free_username(identity.username_hint, identity),
            oidc_issuer=identity.issuer,
            oidc_subject=identity.subject,
        )
        user.set_unusable_password()  # SSO users have no FinPulse password to guess
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # A parallel first sign-in of the same person created the row: use it.
            user = User.objects.select_for_update().get(oidc_issuer=identity.issuer, oidc_subject=identity.subject)
        else:
            entries.append(AuditEntry(action="user.created", actor=None, target=user, metadata={"source": source}))
    if not user.is_active:
        raise LoginRefused(
            "account_disabled",
            "Your FinPulse account is disabled. Ask the access team if this is a mistake.",
            subject=identity.subject,
            username=user.username,
        )

    before: dict[str, Any] = {
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "branch": user.branch.code if user.branch else None,
        "is_staff": user.is_staff,
    }
    after: dict[str, Any] = {
        "roles": sorted(identity.roles),
        "branch": branch.code if branch else None,
        # Django admin is for administrators only (roles.is_staff_for); the admin asks for TOTP too.
        "is_staff": roles.is_staff_for(identity.roles, is_superuser=user.is_superuser),
    }
    # Access tokens often carry no profile claims: a blank claim keeps what we have.
    user.email = identity.email or user.email
    user.first_name = identity.first_name or user.first_name
    user.last_name = identity.last_name or user.last_name
    user.branch = branch
    user.is_staff = after["is_staff"]
    user.save(update_fields=["email", "first_name", "last_name", "branch", "is_staff"])
    if before["roles"] != after["roles"]:
        user.groups.set(Group.objects.filter(name__in=identity.roles))
    forget_user(user)  # the next question must see the new groups

    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changes and not any(entry.action == "user.created" for entry in entries):
        entries.append(
            AuditEntry(
                action="user.roles_synced",
                actor=None,
                target=user,
                changes=changes,
                metadata={"source": source, "provider_values": list(identity.provider_values)},
            )
        )
    elif entries:
        entries[0].changes = changes
    if entries:
        record_audit_events(entries)
    return user


@transaction.atomic
def strip_roles(*, issuer: str, subject: str, source: str) -> User | None:
    """The provider says this person has no FinPulse role any more: remove every role here too.

    The sign-in is refused anyway; stripping the groups also closes any other way in (an
    existing session elsewhere, an API key the user owns) until a role is granted again.
    """
    user = User.objects.select_for_update().filter(oidc_issuer=issuer, oidc_subject=subject).first()
    if user is None:
        return None
    before = sorted(user.groups.values_list("name", flat=True))
    if before or user.is_staff:
        user.groups.clear()
        user.is_staff = user.is_superuser
        user.save(update_fields=["is_staff"])
        forget_user(user)
        record_audit_event(
            actor=None,
            action="user.roles_synced",
            target=user,
            changes={"roles": [before, []]},
            metadata={"source": source, "provider_values": []},
        )
    return user


@transaction.atomic
def record_login_succeeded(*, user: User, method: str, request: HttpRequest | None = None) -> None:
    record_audit_event(
        actor=user, action="login.succeeded", target=user, metadata={"method": method, "ip": client_ip(request)}
    )


@transaction.atomic
def record_login_failed(
    *,
    reason: str,
    method: str,
    request: HttpRequest | None = None,
    username: str = "",
    subject: str = "",
    detail: str = "",
) -> None:
    """A refused sign-in or token: who it claimed to be, why, from where (never a secret)."""
    entry = AuditEntry(
        action="login.failed",
        actor=None,
        object_type="identity.user",
        metadata={
            "method": method,
            "reason": reason,
            "username": username[:150],
            "subject": subject[:255],
            "detail": detail[:300],
            "ip": client_ip(request),
        },
    )
    record_audit_events([entry])


@transaction.atomic
def record_break_glass_login(*, user: User, request: HttpRequest | None = None) -> None:
    """Every use of the break-glass login is on the record, for review after the SSO outage."""
    record_audit_event(
        actor=user,
        action="login.break_glass",
        target=user,
        metadata={"method": "break_glass", "ip": client_ip(request)},
    )


@transaction.atomic
def record_second_factor_verified(*, user: User, method: str, request: HttpRequest | None = None) -> None:
    """A step-up (apps.identity.step_up): the privileged actions that follow are on its record."""
    record_audit_event(
        actor=user, action="second_factor.verified", target=user, metadata={"method": method, "ip": client_ip(request)}
    )


@transaction.atomic
def record_session_ended(*, user: User, reason: str, request: HttpRequest | None = None) -> None:
    record_audit_event(
        actor=user if getattr(user, "pk", None) else None,
        action="session.ended",
        target=user if getattr(user, "pk", None) else None,
        metadata={"reason": reason, "ip": client_ip(request)},
    )


@transaction.atomic
def enrol_totp_device(*, actor: User | None, user: User, name: str = "Authenticator app") -> TOTPDevice:
    """A new confirmed TOTP device for a staff user (break-glass and the admin need one).

    Earlier devices are removed: one device per person, so a lost phone is replaced, not added.
    """
    # Staff need one for the admin and break-glass; anyone with a FinPulse role for step-up
    # (approving four-eyes requests, portfolio moves, exports) when SSO is off.
    if not (user.is_staff or user.is_superuser or user.groups.exists()):
        raise DomainError("Only staff and people with a FinPulse role need an authenticator app.")
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    record_audit_event(
        actor=actor, action="totp.enrolled", target=user, metadata={"device": device.pk, "replaced": removed}
    )
    return device


# --- Access given in Django admin (groups, permissions, staff and superuser flags) ---
#
# Granting is four-eyes: the admin proposes (apps/identity/access_grants.py hands the proposal to
# the approvals app) and `grant_access` applies it when a second administrator approves.
# Revoking applies at once (a leaver's access must not wait for a second person), audited.


def _access_names(group_ids: list[int], permission_ids: list[int]) -> dict[str, list[str]]:
    from django.contrib.auth.models import Permission

    permissions = Permission.objects.filter(pk__in=permission_ids).select_related("content_type")
    return {
        "groups": sorted(Group.objects.filter(pk__in=group_ids).values_list("name", flat=True)),
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions),
    }


@transaction.atomic
def grant_access(
    *,
    actor: User,
    user: User | None = None,
    group: Group | None = None,
    group_ids: list[int] | tuple[int, ...] = (),
    permission_ids: list[int] | tuple[int, ...] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> None:
    """Add groups, permissions or the staff/superuser flags to a person, or permissions to a
    group (never removes anything). The change the second administrator approved."""
    if not actor.is_active:
        raise DomainError("The person who proposed this change is no longer active.")
    _change_access(
        grant=True,
        actor=actor,
        user=user,
        group=group,
        group_ids=group_ids,
        permission_ids=permission_ids,
        flags={"is_staff": is_staff, "is_superuser": is_superuser},
    )


@transaction.atomic
def revoke_access(
    *,
    actor: User,
    user: User | None = None,
    group: Group | None = None,
    group_ids: list[int] | tuple[int, ...] = (),
    permission_ids: list[int] | tuple[int, ...] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> None:
    """Remove groups, permissions or flags from a person, or permissions from a group, at once."""
    _change_access(
        grant=False,
        actor=actor,
        user=user,
        group=group,
        group_ids=group_ids,
        permission_ids=permission_ids,
        flags={"is_staff": is_staff, "is_superuser": is_superuser},
    )


def _change_access(
    *,
    grant: bool,
    actor: User,
    user: User | None,
    group: Group | None,
    group_ids: list[int] | tuple[int, ...],
    permission_ids: list[int] | tuple[int, ...],
    flags: dict[str, bool],
) -> None:
    """Grant or revoke the same kinds of access; only the direction and the audit action differ."""
    verb = "granted" if grant else "revoked"
    if (user is None) == (group is None):
        raise DomainError(f"{'Grant access to' if grant else 'Revoke access of'} one person or one group.")
    names = _access_names(list(group_ids), list(permission_ids))
    if group is not None:
        if grant:
            group.permissions.add(*permission_ids)
        else:
            group.permissions.remove(*permission_ids)
        record_audit_event(actor=actor, action=f"group.permissions_{verb}", target=group, metadata=names)
        return
    if user is None:  # checked above; this narrows the type
        raise DomainError("Change the access of one person or one group.")
    if grant:
        user.groups.add(*group_ids)
        user.user_permissions.add(*permission_ids)
    else:
        user.groups.remove(*group_ids)
        user.user_permissions.remove(*permission_ids)
    changed = [name for name, wanted in flags.items() if wanted]
    for name in changed:
        setattr(user, name, grant)
    if changed:
        user.save(update_fields=changed)
    forget_user(user)
    record_audit_event(actor=actor, action=f"user.access_{verb}", target=user, metadata={**names, "flags": changed})
