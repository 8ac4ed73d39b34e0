"""CSV export of the filtered customer list.

Masked hints unless the user holds customers.reveal_pii *and* asked for personal data; either
way one "customer.exported" audit event records who exported what (filters, row count, whether
PII left the building) before the first byte is sent. Cells that a spreadsheet would run as a
formula are neutralised (apps.core.csv_export). Rows are streamed from a server-side cursor,
so memory and the number of queries do not grow with the list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from apps.accounts.positions import CurrencyPosition, positions_by_customer
from apps.core.csv_export import Echo, escape_cell
from apps.core.masking import mask_value
from apps.customers.fields import EXPORTED_PII, PII_LABELS
from apps.customers.models import INDEXED_PII, Customer
from apps.customers.services import record_customer_export
from apps.workspace.customer_list import LIST_FIELDS, CustomerQuery, filtered_customers, is_pii_search

if TYPE_CHECKING:
    from apps.identity.models import User

CHUNK_SIZE = 2000
BASE_COLUMNS = [
    ("external_id", "External id"),
    ("display_name", "Name"),
    ("kind", "Kind"),
    ("segment", "Segment"),
    ("status", "Status"),
    ("kyc_status", "KYC status"),
    ("kyc_review_date", "KYC review date"),
    ("branch", "Branch"),
    ("primary_manager", "Relationship manager"),
]
# Held / owed / net as the customer page shows them (apps.accounts.positions), one
# "GBP 1500.00" per currency, "; "-separated: plain numbers a spreadsheet can split.
POSITION_COLUMNS = [("held", "Held"), ("owed", "Owed"), ("net", "Net")]
MASKED_COLUMNS = [(f"{name}_hint", PII_LABELS[name]) for name in INDEXED_PII]
# The indexed personal data first, in the same columns as their masked hints.
PII_COLUMNS = [(name, PII_LABELS[name]) for name in EXPORTED_PII]


def _audit_filters(query: CustomerQuery) -> dict[str, Any]:
    # A search for an email, phone or id is itself personal data: keep it out of the trail.
    term = mask_value(query.term) if is_pii_search(query.term) else query.term
    return {
        "q": term,
        "segment": query.segment,
        "branch": query.branch_id,
        "kyc_due": query.kyc_due,
        "maturing": query.maturing,
        **(
            {
                "holding_category": query.holding_category,
                "currency": query.currency,
                "matures_from": query.matures_from.isoformat() if query.matures_from else None,
                "matures_to": query.matures_to.isoformat() if query.matures_to else None,
                "contact_overdue": query.contact_overdue,
                "manager": query.manager_id,
                "customers": list(query.customer_ids),
            }
            if query.is_drill_down
            else {}
        ),
    }


def export_rows(*, user: User, query: CustomerQuery) -> QuerySet[Customer]:
    return (
        filtered_customers(user=user, query=query)
        .select_related("branch", "primary_manager")
        .order_by("display_name", "id")
    )


def audit_filters(query: CustomerQuery) -> dict[str, Any]:
    """The export's filters as the audit trail (and a four-eyes request) keeps them."""
    return _audit_filters(query)


def prepare_export(
    *, user: User, query: CustomerQuery, include_pii: bool, reason: str = "", approval: int | None = None
) -> Iterator[str]:
    """Record the export, then return the CSV lines to stream (header first).

    `approval`: the four-eyes request that released this export (apps/customers/four_eyes.py);
    the trail then names the request instead of repeating its list of customers."""
    customers = export_rows(user=user, query=query)
    details: dict[str, Any] = {"four_eyes_request": approval} if approval else {}
    record_customer_export(
        actor=user,
        filters={"approved_request": approval} if approval else _audit_filters(query),
        rows=customers.count(),
        include_pii=include_pii,
        reason=reason,
        **details,
    )
    if include_pii:
        customers = customers.only(*LIST_FIELDS, *(name for name, _ in PII_COLUMNS))
    else:
        customers = customers.only(*LIST_FIELDS)
    return csv_lines(customers.iterator(chunk_size=CHUNK_SIZE), include_pii=include_pii)


def _position_cell(positions: list[CurrencyPosition], figure: str) -> str:
    return "; ".join(f"{p.currency} {getattr(p, figure)}" for p in positions)


def _with_positions(customers: Iterable[Customer]) -> Iterator[tuple[Customer, list[CurrencyPosition]]]:
    """Each customer with their position, one query per chunk (not per row)."""
    rows = iter(customers)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        positions = positions_by_customer(c.pk for c in chunk)
        for customer in chunk:
            yield customer, positions.get(customer.pk, [])


def csv_lines(customers: Iterable[Customer], *, include_pii: bool) -> Iterator[str]:
    personal = PII_COLUMNS if include_pii else MASKED_COLUMNS
    writer = csv.writer(Echo())
    # The byte-order mark makes spreadsheet programs read the file as UTF-8 (names with accents).
    yield "\ufeff" + writer.writerow([label for _, label in BASE_COLUMNS + POSITION_COLUMNS + personal])
    for customer, positions in _with_positions(customers):
        manager = customer.primary_manager
        row = [
            customer.external_id,
            customer.display_name,
            customer.get_kind_display(),
            customer.get_segment_display(),
            customer.get_status_display(),
            customer.get_kyc_status_display(),
            customer.kyc_review_date.isoformat() if customer.kyc_review_date else "",
            customer.branch.code,
            (manager.get_full_name() or manager.get_username()) if manager else "",
            *(_position_cell(positions, figure) for figure, _ in POSITION_COLUMNS),
            *(getattr(customer, name) for name, _ in personal),
        ]
        yield writer.writerow([escape_cell(value) for value in row])
