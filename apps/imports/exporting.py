"""Customer export for other systems (`manage.py export_customers`): CSV or JSON Lines.

The columns are the import's own (docs/imports.md), so an export can be edited and loaded
back. Personal data is masked unless --include-pii is given by someone holding
customers.reveal_pii; masked exports name their columns *_hint, so loading one back can never
overwrite a stored national id, email or phone with its mask. Rows start from
visible_customers(user=actor), like every other read. Every export is audited before the first
row is written ("customer.exported": who, filters, rows, whether PII left). CSV cells that a
spreadsheet would run as a formula are neutralised (apps.core.csv_export).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TextIO

from django.db.models import QuerySet

from apps.core.csv_export import escape_cell
from apps.core.errors import DomainError, PermissionDenied
from apps.customers.fields import BANKING_FIELDS, HINT_FIELDS, NAME_FIELDS, PII_FIELDS
from apps.customers.four_eyes import (
    ExportAwaitsApproval,
    export_needs_approval,
    propose_pii_export,
    release_approved_export,
)
from apps.customers.models import Customer
from apps.customers.services import record_customer_export
from apps.customers.visibility import visible_customers
from apps.products.models import Segment

if TYPE_CHECKING:
    from apps.identity.models import User

CHUNK_SIZE = 2000
BASE_COLUMNS = ("external_id", "kind", *NAME_FIELDS, "country", *BANKING_FIELDS, "branch_code", "manager_username")
MASKED_COLUMNS = HINT_FIELDS
PII_COLUMNS = PII_FIELDS
_MODEL_FIELDS = tuple(c for c in BASE_COLUMNS if c not in ("branch_code", "manager_username"))


@dataclass(frozen=True)
class ExportFilters:
    segment: str = ""
    branch_code: str = ""
    status: str = ""
    kyc_status: str = ""
    kind: str = ""
    manager_username: str = ""


def _filtered(*, user: User, filters: ExportFilters) -> QuerySet[Customer]:
    customers = visible_customers(user=user)
    for name, allowed in (
        ("segment", Segment.values),
        ("status", Customer.Status.values),
        ("kyc_status", Customer.KycStatus.values),
        ("kind", Customer.Kind.values),
    ):
        value = getattr(filters, name)
        if not value:
            continue
        if value not in allowed:
            raise DomainError(
                f"{value!r} is not a {name.replace('_', ' ')} (one of: {', '.join(allowed)}).", field=name
            )
        customers = customers.filter(**{name: value})
    if filters.branch_code:
        customers = customers.filter(branch__code=filters.branch_code.upper())
    if filters.manager_username:
        customers = customers.filter(primary_manager__username=filters.manager_username)
    return customers


def _values(customer: Customer, include_pii: bool) -> Iterator[tuple[str, Any]]:
    for name in _MODEL_FIELDS:
        value = getattr(customer, name)
        yield name, value.isoformat() if hasattr(value, "isoformat") else value
    yield "branch_code", customer.branch.code
    yield "manager_username", customer.primary_manager.get_username() if customer.primary_manager else ""
    for name in PII_COLUMNS if include_pii else MASKED_COLUMNS:
        value = getattr(customer, name)
        yield name, value.isoformat() if hasattr(value, "isoformat") else value


def export_customers(
    *,
    actor: User | None,
    filters: ExportFilters,
    include_pii: bool,
    file_format: str,
    out: TextIO,
    reason: str = "",
    approved_request: int | None = None,
) -> int:
    """Audit the export, then stream it to `out` (server-side cursor: flat memory). Returns rows.

    Personal data of more than FINPULSE_FOUR_EYES_EXPORT_THRESHOLD customers: without
    `approved_request` the export is proposed for a second person's approval and
    ExportAwaitsApproval is raised (nothing written); with it, the approval is spent (its maker,
    once, in time, for exactly the customers approved)."""
    if actor is None or not getattr(actor, "is_active", False):
        raise PermissionDenied("An export is made by a named, active user.")
    customers = _filtered(user=actor, filters=filters)
    rows = customers.count()
    audit_filters = {k: v for k, v in asdict(filters).items() if v}
    details: dict[str, Any] = {}
    if include_pii and (approved_request is not None or export_needs_approval(include_pii=True, rows=rows)):
        # Four eyes on personal data of many customers (apps/customers/four_eyes.py): the first
        # run proposes the export and writes nothing; once a second person approves it, the
        # same command with --approved-request writes it, once.
        ids = list(customers.values_list("pk", flat=True))
        if approved_request is None:
            change = propose_pii_export(
                actor=actor, customer_ids=ids, filters=audit_filters, reason=reason, via="export_customers command"
            )
            raise ExportAwaitsApproval(change)
        release_approved_export(actor=actor, change_id=approved_request, customer_ids=ids)
        details["four_eyes_request"] = approved_request
    record_customer_export(
        actor=actor,
        filters=audit_filters,
        rows=rows,
        include_pii=include_pii,
        reason=reason,
        format=file_format,
        via="export_customers command",
        **details,
    )
    fields = [*_MODEL_FIELDS, "branch__code", "primary_manager__username"]
    fields += list(PII_COLUMNS if include_pii else MASKED_COLUMNS)
    customers = customers.select_related("branch", "primary_manager").only(*fields).order_by("external_id")
    header = [*BASE_COLUMNS, *(PII_COLUMNS if include_pii else MASKED_COLUMNS)]
    if file_format == "jsonl":
        for customer in customers.iterator(chunk_size=CHUNK_SIZE):
            out.write(json.dumps(dict(_values(customer, include_pii)), ensure_ascii=False, default=str) + "\n")
        return rows
    writer = csv.writer(out)
    # The byte-order mark makes spreadsheet programs read UTF-8 (names with accents); the
    # import reads files with or without it.
    out.write("\ufeff")
    writer.writerow(header)
    for customer in customers.iterator(chunk_size=CHUNK_SIZE):
        writer.writerow([escape_cell(value) for _, value in _values(customer, include_pii)])
    return rows
