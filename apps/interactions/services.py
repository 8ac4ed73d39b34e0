"""Every write to interactions and attachments: transactional, validated, audited.

Rules enforced here: compliance officers log nothing (read-only role); attachments are
checked by content before anything is written, so a refused file leaves no row and no file;
an interaction is editable by its author only for FINPULSE_INTERACTION_EDIT_WINDOW_MINUTES
after it was logged, and immutable afterwards (a correction is a new interaction that
points at the one it corrects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import record_audit_event
from apps.core.errors import Conflict, DomainError, PermissionDenied, raise_as_domain_error
from apps.customers.models import Customer
from apps.customers.visibility import ensure_can_edit, may_edit_customers
from apps.interactions import files
from apps.interactions.models import Attachment, Interaction

if TYPE_CHECKING:
    from apps.identity.models import User

EDITABLE_FIELDS = ("channel", "occurred_at", "subject", "body", "outcome", "next_step", "is_confidential")
# Free text may hold personal data: the audit trail records that it changed, never what it says.
TEXT_FIELDS = ("subject", "body", "outcome", "next_step")
# Clocks drift: a few minutes ahead is a typo-free "now", more is a mistake.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def edit_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.FINPULSE_INTERACTION_EDIT_WINDOW_MINUTES)


def editable_until(interaction: Interaction) -> dt.datetime:
    return interaction.created_at + edit_window()


def is_editable_by(interaction: Interaction, user: User, *, now: dt.datetime | None = None) -> bool:
    """The author, within the edit window, and only while their role may write."""
    if getattr(user, "pk", None) is None or interaction.author_id != user.pk:
        return False
    if not may_edit_customers(user):
        return False
    return (now or timezone.now()) < editable_until(interaction)


def _validate(interaction: Interaction) -> None:
    if interaction.occurred_at and interaction.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise DomainError(_("An interaction cannot be in the future."), field="occurred_at")
    try:
        interaction.full_clean(exclude=["customer", "author", "corrects"])
    except ValidationError as error:
        raise_as_domain_error(error)


def _require_author(actor: User | None) -> None:
    ensure_can_edit(actor)
    if getattr(actor, "pk", None) is None:
        raise DomainError("An interaction is always logged by a person.")


@transaction.atomic
def log_interaction(
    *,
    actor: User | None,
    customer: Customer,
    channel: str,
    subject: str,
    occurred_at: dt.datetime | None = None,
    body: str = "",
    outcome: str = "",
    next_step: str = "",
    is_confidential: bool = False,
    attachments: Sequence[UploadedFile] = (),
    corrects: Interaction | None = None,
) -> Interaction:
    """Record a conversation with its attachments; files are written only once all passed."""
    _require_author(actor)
    checked = files.check_uploads(attachments)
    if corrects is not None and corrects.customer_id != customer.pk:
        raise DomainError(_("A correction belongs to the same customer as the entry it corrects."))
    interaction = Interaction(
        customer=customer,
        author=actor,
        channel=channel,
        occurred_at=occurred_at or timezone.now(),
        subject=(subject or "").strip(),
        body=(body or "").strip(),
        outcome=(outcome or "").strip(),
        next_step=(next_step or "").strip(),
        is_confidential=bool(is_confidential),
        corrects=corrects,
    )
    _validate(interaction)
    interaction.save()
    stored: list[str] = []
    try:
        rows = []
        for item in checked:
            storage_path, sha256 = files.store(item)
            stored.append(storage_path)
            rows.append(
                Attachment(
                    interaction=interaction,
                    original_name=item.name,
                    content_type=item.content_type,
                    size=item.size,
                    sha256=sha256,
                    storage_path=storage_path,
                    uploaded_by=actor,
                )
            )
        Attachment.objects.bulk_create(rows)
        record_audit_event(
            actor=actor,
            action="interaction.logged",
            target=interaction,
            metadata={
                "channel": channel,
                "confidential": interaction.is_confidential,
                "corrects": corrects.pk if corrects else None,
                # No file names: they often carry a person's name.
                "attachments": [
                    {"id": row.pk, "content_type": row.content_type, "size": row.size, "sha256": row.sha256}
                    for row in rows
                ],
            },
        )
    except BaseException:
        # The rows roll back with the transaction; the files would not, so remove them here.
        files.remove(stored)
        raise
    return interaction


@transaction.atomic
def edit_interaction(*, actor: User, interaction: Interaction, **changes: Any) -> Interaction:
    """The author may fix their own entry within the edit window; afterwards it is immutable."""
    _require_author(actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    interaction = Interaction.objects.select_for_update().get(pk=interaction.pk)
    if interaction.author_id != actor.pk:
        raise PermissionDenied(_("Only the author can edit an interaction; add a correction instead."))
    if timezone.now() >= editable_until(interaction):
        minutes = settings.FINPULSE_INTERACTION_EDIT_WINDOW_MINUTES
        raise Conflict(
            _(
                "This interaction was logged more than %(minutes)s minutes ago and can no longer be changed; "
                "add a correction instead."
            )
            % {"minutes": minutes}
        )
    before = {name: getattr(interaction, name) for name in changes}
    for name, value in changes.items():
        setattr(interaction, name, value.strip() if isinstance(value, str) else value)
    changed = [name for name in changes if getattr(interaction, name) != before[name]]
    if not changed:
        return interaction
    _validate(interaction)
    interaction.save(update_fields=[*changed, "updated_at"])
    record_audit_event(
        actor=actor,
        action="interaction.edited",
        target=interaction,
        changes={
            name: ["[text]", "[text changed]"] if name in TEXT_FIELDS else [before[name], getattr(interaction, name)]
            for name in changed
        },
    )
    return interaction


def add_correction(*, actor: User | None, original: Interaction, **fields: Any) -> Interaction:
    """A correction is a new interaction on the same customer, linked to the one it corrects."""
    return log_interaction(actor=actor, customer=original.customer, corrects=original, **fields)


@transaction.atomic
def record_attachment_download(*, actor: User | None, attachment: Attachment) -> None:
    """Every read of an attachment is on the audit trail (who, which file, which customer)."""
    record_audit_event(
        actor=actor,
        action="attachment.downloaded",
        target=attachment,
        customer_id=attachment.interaction.customer_id,
        metadata={"interaction": attachment.interaction_id, "sha256": attachment.sha256},
    )
