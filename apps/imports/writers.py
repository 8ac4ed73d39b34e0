"""Batched upserts: the bulk path of the services, one transaction per batch.

Each writer produces the same data the services would (encrypted PII, blind indexes, hints,
display names, the models' clean() rules, assignments with their permissions and history),
but in a fixed number of queries per batch whatever its size: existing rows are fetched by
external id in one query, new rows go in with bulk_create, changed rows with bulk_update,
references (branches, managers, products, customers) are resolved per batch or cached for
the run, and the per-object audit events of a batch are one record_audit_events call.

Classification: a row is "unchanged" when every value it gives equals what is stored.
Encrypted fields are compared with the decrypted values of the stored row (a batch is
decrypted, which costs about 16 µs per value) rather than with a content hash, so an edit
made in the app since the last import is seen and overwritten, never missed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.audit import AuditEntry, change_set, record_audit_events
from apps.core.bulk import copy_insert
from apps.core.business_date import business_today
from apps.core.fields import sealed_for_bulk_update
from apps.core.models import FxRate
from apps.customers.book_facts import forget_books
from apps.customers.fields import NAME_FIELDS, PII_LABELS, PROFILE_FIELDS
from apps.customers.models import (
    AUDIT_MASKED_FIELDS,
    INDEXED_PII,
    PII_FIELDS,
    Customer,
    CustomerAssignment,
    CustomerUserObjectPermission,
)
from apps.customers.services import assign_customers, open_first_assignments
from apps.customers.visibility import may_edit_customers
from apps.identity import roles
from apps.identity.models import Branch, User
from apps.imports.models import ExternalReference, ImportRowError, ImportRun
from apps.imports.schemas import ParsedRow, Schema
from apps.interactions.models import Interaction
from apps.interactions.services import FUTURE_TOLERANCE
from apps.products.fields import PRODUCT_FIELDS as CATALOG_FIELDS
from apps.products.models import Product, ProductRate
from apps.products.services import terms_problems

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


@dataclass
class ImportContext:
    """What a batch writer needs besides the rows; the caches live for the whole run."""

    run: ImportRun
    schema: Schema
    actor: User | None = None
    dry_run: bool = False
    branches: dict[str, Branch | None] = field(default_factory=dict)
    managers: dict[str, tuple[User | None, str]] = field(default_factory=dict)
    authors: dict[str, tuple[User | None, str]] = field(default_factory=dict)
    products: dict[str, Product | None] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return f"Import run #{self.run.pk} ({self.run.file_name})"

    def audit(self, entries: Iterable[AuditEntry]) -> None:
        # A dry run writes nothing, so it also takes no lock on the audit chain.
        if not self.dry_run:
            record_audit_events(entries)

    def resolve_branches(self, codes: Iterable[str]) -> None:
        missing = {code for code in codes if code and code not in self.branches}
        if missing:
            found = {b.code: b for b in Branch.objects.filter(code__in=missing)}
            for code in missing:
                self.branches[code] = found.get(code)

    def _resolve_people(
        self, cache: dict[str, tuple[User | None, str]], usernames: Iterable[str], check: Callable[[User], str]
    ) -> None:
        missing = {name for name in usernames if name and name not in cache}
        if not missing:
            return
        users = {u.username: u for u in User.objects.filter(username__in=missing)}
        # Roles of all of them in one query, set where User.role_names would look (one per user).
        role_rows = Group.objects.filter(user__in=users.values()).values_list("user__username", "name")
        names: dict[str, set[str]] = defaultdict(set)
        for username, role in role_rows:
            names[username].add(role)
        for username in missing:
            user = users.get(username)
            if user is None:
                cache[username] = (None, f"No employee with the username {username!r}.")
                continue
            user.__dict__["role_names"] = frozenset(names[username])
            problem = check(user)
            cache[username] = (None, problem) if problem else (user, "")

    def resolve_managers(self, usernames: Iterable[str]) -> None:
        def check(user: User) -> str:
            if not user.is_active:
                return f"{user.username!r} is not an active employee."
            if not (user.has_role(roles.RELATIONSHIP_MANAGER) or user.has_role(roles.BRANCH_MANAGER)):
                return f"{user.username!r} is not a relationship or branch manager."
            return ""

        self._resolve_people(self.managers, usernames, check)

    def resolve_authors(self, usernames: Iterable[str]) -> None:
        def check(user: User) -> str:
            if not may_edit_customers(user):
                return f"{user.username!r} cannot log interactions (inactive, or a read-only role)."
            return ""

        self._resolve_people(self.authors, usernames, check)

    def resolve_products(self, codes: Iterable[str]) -> None:
        missing = {code for code in codes if code and code not in self.products}
        if missing:
            found = {p.code: p for p in Product.objects.filter(code__in=missing)}
            for code in missing:
                self.products[code] = found.get(code)


@dataclass
class Outcome:
    """What happened to one row; `row.problems` holds why it failed."""

    row: ParsedRow
    status: str = FAILED
    duplicate: bool = False


def _validation_problems(row: ParsedRow, error: ValidationError, columns: dict[str, str] | None = None) -> None:
    columns = columns or {}
    for name, messages in error.message_dict.items():
        column = columns.get(name, "" if name == "__all__" else name)
        row.fail(column, " ".join(messages))


def _full_clean(
    instance: models.Model, row: ParsedRow, exclude: list[str], columns: dict[str, str] | None = None
) -> None:
    """The model's own rules (field validation and clean()); uniqueness is checked per batch."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        _validation_problems(row, error, columns)


# --- customers -------------------------------------------------------------------------------

CUSTOMER_FIELDS = PROFILE_FIELDS  # the profile the customer services write
# Text fields: an empty cell clears them to "" (the date of birth, a date, to None).
_CUSTOMER_TEXT = (*NAME_FIELDS, *(name for name in PII_FIELDS if name != "date_of_birth"))
# Columns written by bulk_update when a profile field changed (PII carries its index and hint).
_CUSTOMER_DB_FIELDS = {name: [name] for name in CUSTOMER_FIELDS} | {
    name: [name, f"{name}_index", f"{name}_hint"] for name in INDEXED_PII
}
_NAME_FIELDS = {"kind", *NAME_FIELDS}
_CUSTOMER_COLUMNS = {"branch": "branch_code", "display_name": "last_name", "primary_manager": "manager_username"}


@dataclass
class _CustomerPlan:
    outcome: Outcome
    customer: Customer
    is_new: bool
    changes: dict[str, list[Any]]
    changed_fields: set[str]
    manager: User | None
    new_indexes: list[tuple[str, str]]


def _apply_customer(customer: Customer, data: dict[str, Any]) -> None:
    for name in CUSTOMER_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in INDEXED_PII or name == "address":
            customer.set_pii(name, value or "")
        elif value is None and name in _CUSTOMER_TEXT:
            setattr(customer, name, "")
        else:
            setattr(customer, name, value)
    customer.display_name = customer.compose_display_name()


def write_customers(*, context: ImportContext, rows: list[ParsedRow]) -> list[Outcome]:
    outcomes = [Outcome(row) for row in rows]
    good = [o for o in outcomes if o.row.ok]
    if not good:
        return outcomes
    existing = {
        c.external_id: c
        for c in Customer.objects.filter(external_id__in=[o.row.data["external_id"] for o in good]).order_by()
    }
    context.resolve_branches(o.row.data.get("branch_code") for o in good)
    context.resolve_managers(o.row.data.get("manager_username") for o in good)
    today = business_today()
    plans: list[_CustomerPlan] = []
    for outcome in good:
        row, data = outcome.row, outcome.row.data
        customer = existing.get(data["external_id"])
        is_new = customer is None
        if customer is None:
            customer = Customer(external_id=data["external_id"])
        fields = [name for name in CUSTOMER_FIELDS if name in data]
        before = {} if is_new else {name: getattr(customer, name) for name in fields}
        before_indexes = {kind: getattr(customer, f"{kind}_index") for kind in INDEXED_PII}
        before_branch = customer.branch_id
        code = data.get("branch_code")
        if code:
            branch = context.branches.get(code)
            if branch is None:
                row.fail("branch_code", f"No branch with the code {code!r}.")
            else:
                customer.branch = branch
        elif is_new:
            row.fail("branch_code", "A new customer needs a branch code.")
        manager = None
        if data.get("manager_username"):
            manager, problem = context.managers[data["manager_username"]]
            if problem:
                row.fail("manager_username", problem)
        _apply_customer(customer, data)
        if customer.date_of_birth and customer.date_of_birth > today:
            row.fail("date_of_birth", "A date of birth cannot be in the future.")
        _full_clean(
            customer,
            row,
            # The row's own fields passed the schema's stricter checks (types, lengths,
            # choices); what is left is clean() and the fields the row did not give.
            exclude=["branch", "primary_manager", "display_name", *(f"{k}_index" for k in INDEXED_PII), *fields],
            columns=_CUSTOMER_COLUMNS,
        )
        if not row.ok:
            continue
        after = {name: getattr(customer, name) for name in fields}
        changes = change_set(before, after, pii=AUDIT_MASKED_FIELDS)
        changed = set(changes)
        if customer.branch_id != before_branch:
            changes["branch"] = [None if is_new else before_branch, customer.branch_id]
            changed.add("branch")
        if is_new and manager is not None:
            # A new customer is created with its manager (assignment opened below, in bulk).
            customer.primary_manager = manager
            changes["primary_manager"] = [None, manager.pk]
        new_indexes = [
            (kind, getattr(customer, f"{kind}_index"))
            for kind in INDEXED_PII
            if getattr(customer, f"{kind}_index") and getattr(customer, f"{kind}_index") != before_indexes[kind]
        ]
        plans.append(_CustomerPlan(outcome, customer, is_new, changes, changed, manager, new_indexes))

    plans = _reject_customer_duplicates(plans)
    now = timezone.now()
    new = [p for p in plans if p.is_new]
    changed = [p for p in plans if not p.is_new and p.changed_fields]
    if new:
        copy_insert([p.customer for p in new])
        open_first_assignments(
            actor=context.actor,
            customers=[p.customer for p in new if p.customer.primary_manager_id],
            reason=context.reason,
        )
    if new or any("branch" in plan.changed_fields for plan in changed):
        forget_books()  # customers joined a branch (its managers' branch filters)
    if changed:
        update_fields = {"updated_at", "display_name"}
        for plan in changed:
            plan.customer.updated_at = now
            for name in plan.changed_fields:
                update_fields.update(_CUSTOMER_DB_FIELDS.get(name, [name]))
        changed_customers = [p.customer for p in changed]
        with sealed_for_bulk_update(changed_customers, update_fields):
            Customer.objects.bulk_update(changed_customers, fields=sorted(update_fields))
    by_manager: dict[int, tuple[User, list[int]]] = {}
    for plan in plans:
        plan.outcome.status = CREATED if plan.is_new else (UPDATED if plan.changed_fields else UNCHANGED)
        if plan.manager is not None and plan.customer.primary_manager_id != plan.manager.pk:
            by_manager.setdefault(plan.manager.pk, (plan.manager, []))[1].append(plan.customer.pk)
            if plan.outcome.status == UNCHANGED:
                plan.outcome.status = UPDATED
    if not context.dry_run:
        for manager, customer_ids in by_manager.values():
            # The service's bulk path: permissions, assignment history and audit per customer.
            assign_customers(actor=context.actor, customer_ids=customer_ids, manager=manager, reason=context.reason)
    context.audit(
        AuditEntry(
            action="customer.imported",
            actor=context.actor,
            customer_id=plan.customer.pk,
            object_type="customers.customer",
            object_id=plan.customer.pk,
            changes=plan.changes,
            metadata={"import_run": context.run.pk, "row": plan.outcome.row.number, "operation": plan.outcome.status},
        )
        for plan in plans
        if plan.changes
    )
    return outcomes


def _reject_customer_duplicates(plans: list[_CustomerPlan]) -> list[_CustomerPlan]:
    """A national id, email or phone already held by another external id: a probable duplicate.

    One query on the blind indexes for the batch; rows earlier in the batch count too (rows of
    earlier batches are already in the table). Only values a row would newly set are checked,
    so customers who legitimately share a phone stay "unchanged" on a re-run.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    for plan in plans:
        for kind, index in plan.new_indexes:
            wanted[kind].add(index)
    if not wanted:
        return plans
    query = Q(pk__in=[])
    for kind, indexes in wanted.items():
        query |= Q(**{f"{kind}_index__in": indexes})
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    columns = ["external_id", *(f"{kind}_index" for kind in INDEXED_PII)]
    for external, *indexes in Customer.objects.filter(query).order_by().values_list(*columns):
        for kind, index in zip(INDEXED_PII, indexes, strict=True):
            if index:
                holders[(kind, index)].add(external)
    accepted = []
    for plan in plans:
        external = plan.customer.external_id
        clash = None
        for kind, index in plan.new_indexes:
            others = holders[(kind, index)] - {external}
            if others:
                clash = (kind, sorted(others)[0])
                break
        if clash:
            kind, other = clash
            plan.outcome.row.fail(kind, f"Probable duplicate of customer {other}: same {PII_LABELS[kind].lower()}.")
            plan.outcome.duplicate = True
            continue
        for kind, index in plan.new_indexes:
            holders[(kind, index)].add(external)
        accepted.append(plan)
    return accepted


# --- holdings --------------------------------------------------------------------------------

HOLDING_FIELDS = ("currency", "balance", "credit_limit", "rate", "maturity_date", "maturity_instruction", "status")
_HOLDING_FIXED = {"category": "category", "opened_on": "opening date"}


def _number_hint(category: str, number: str) -> str:
    probe = Holding(category=category)
    probe.set_number(number)
    return probe.number_hint


def write_holdings(*, context: ImportContext, rows: list[ParsedRow]) -> list[Outcome]:
    outcomes = [Outcome(row) for row in rows]
    good = [o for o in outcomes if o.row.ok]
    if not good:
        return outcomes
    existing = {
        h.external_id: h
        for h in Holding.objects.filter(external_id__in=[o.row.data["external_id"] for o in good]).order_by()
    }
    stored_parties: dict[int, dict[int, tuple[int, str]]] = defaultdict(dict)
    for pk, holding_id, customer_id, role in HoldingParty.objects.filter(
        holding_id__in=[h.pk for h in existing.values()]
    ).values_list("pk", "holding_id", "customer_id", "role"):
        stored_parties[holding_id][customer_id] = (pk, role)
    context.resolve_products(o.row.data["product_code"] for o in good)
    wanted_customers = {external for o in good for external, _ in o.row.data["parties"]}
    customers = dict(Customer.objects.filter(external_id__in=wanted_customers).values_list("external_id", "pk"))

    plans: list[tuple[Outcome, Holding, bool, dict[str, list[Any]], dict[int, str]]] = []
    for outcome in good:
        row, data = outcome.row, outcome.row.data
        product = context.products.get(data["product_code"])
        if product is None:
            row.fail("product_code", f"No product with the code {data['product_code']!r}.")
        unknown = [external for external, _ in data["parties"] if external not in customers]
        if unknown:
            row.fail("parties", f"No customer with the external id {', '.join(unknown)}.")
        holding = existing.get(data["external_id"])
        is_new = holding is None
        fields = [name for name in HOLDING_FIELDS if name in data]
        if holding is None:
            holding = Holding(external_id=data["external_id"], category=data["category"], opened_on=data["opened_on"])
            if product is not None:
                holding.product = product
            holding.set_number(data.get("number") or "")
            before: dict[str, Any] = {}
        else:
            for name, label in _HOLDING_FIXED.items():
                if getattr(holding, name) != data[name]:
                    row.fail(name, f"The {label} of an existing holding cannot change.")
            if product is not None and holding.product_id != product.pk:
                row.fail("product_code", "The product of an existing holding cannot change.")
            if "number" in data:
                given = data["number"] or ""
                same = (
                    holding.number_hint == _number_hint(holding.category, given)
                    if holding.category == Holding.Category.CREDIT_CARD
                    else holding.number == given
                )
                if not same:
                    row.fail("number", "The number of an existing holding cannot change.")
            before = {name: getattr(holding, name) for name in fields}
        for name in fields:
            value = data[name]
            if value is None and name == "maturity_instruction":
                value = ""
            setattr(holding, name, value)
        if holding.credit_limit is not None and holding.credit_limit < 0:
            row.fail("credit_limit", "A credit limit cannot be negative.")
        _full_clean(holding, row, exclude=["product"])
        if not row.ok:
            continue
        changes = change_set(before, {name: getattr(holding, name) for name in fields})
        if is_new:
            changes.update(
                {
                    "category": [None, holding.category],
                    "opened_on": [None, holding.opened_on],
                    "number": [None, holding.number_hint],
                    "product": [None, data["product_code"]],
                }
            )
        wanted = {customers[external]: role for external, role in data["parties"]}
        current = (
            {customer_id: role for customer_id, (_, role) in stored_parties[holding.pk].items()} if holding.pk else {}
        )
        if wanted != current:
            changes["parties"] = [
                sorted(f"{c}:{r}" for c, r in current.items()),
                sorted(f"{c}:{r}" for c, r in wanted.items()),
            ]
        plans.append((outcome, holding, is_new, changes, wanted))

    now = timezone.now()
    new_holdings = [holding for _, holding, is_new, _, _ in plans if is_new]
    if new_holdings:
        Holding.objects.bulk_create(new_holdings)
    changed = [holding for _, holding, is_new, changes, _ in plans if not is_new and set(changes) - {"parties"}]
    if changed:
        for holding in changed:
            holding.updated_at = now
        Holding.objects.bulk_update(changed, fields=[*HOLDING_FIELDS, "updated_at"])
    add, retype, remove = [], [], []
    for _, holding, is_new, changes, wanted in plans:
        if "parties" not in changes:
            continue
        stored = {} if is_new else stored_parties[holding.pk]
        for customer_id, role in wanted.items():
            if customer_id not in stored:
                add.append(HoldingParty(holding=holding, customer_id=customer_id, role=role))
            elif stored[customer_id][1] != role:
                retype.append(HoldingParty(pk=stored[customer_id][0], role=role))
        remove.extend(pk for customer_id, (pk, _) in stored.items() if customer_id not in wanted)
    if remove:
        HoldingParty.objects.filter(pk__in=remove).delete()
    if add:
        HoldingParty.objects.bulk_create(add)
    if retype:
        HoldingParty.objects.bulk_update(retype, fields=["role"])
    entries = []
    for outcome, holding, is_new, changes, wanted in plans:
        outcome.status = CREATED if is_new else (UPDATED if changes else UNCHANGED)
        if not changes:
            continue
        for customer_id, role in wanted.items():
            entries.append(
                AuditEntry(
                    action="holding.imported",
                    actor=context.actor,
                    customer_id=customer_id,
                    object_type="accounts.holding",
                    object_id=holding.pk,
                    changes=changes,
                    metadata={
                        "import_run": context.run.pk,
                        "row": outcome.row.number,
                        "operation": outcome.status,
                        "role": role,
                    },
                )
            )
    context.audit(entries)
    return outcomes


# --- products --------------------------------------------------------------------------------

# What a product row may set: the catalog service's fields, and the name.
PRODUCT_FIELDS = ("name", *CATALOG_FIELDS)
_PRODUCT_TEXT = ("name", "description")


def _audit_value(value: Any) -> Any:
    return [str(v) for v in value] if isinstance(value, list | tuple) else value


def write_products(*, context: ImportContext, rows: list[ParsedRow]) -> list[Outcome]:
    outcomes = [Outcome(row) for row in rows]
    good = [o for o in outcomes if o.row.ok]
    if not good:
        return outcomes
    existing = {p.code: p for p in Product.objects.filter(code__in=[o.row.data["code"] for o in good])}
    through = Product.branches.through
    stored_branches: dict[int, dict[int, int]] = defaultdict(dict)
    for pk, product_id, branch_id in through.objects.filter(
        product_id__in=[p.pk for p in existing.values()]
    ).values_list("pk", "product_id", "branch_id"):
        stored_branches[product_id][branch_id] = pk
    context.resolve_branches(code for o in good for code in (o.row.data.get("branches") or []))
    dates = {o.row.data["rate_effective_from"] for o in good if o.row.data.get("rate_effective_from")}
    same_day: dict[tuple[int, dt.date], list[ProductRate]] = defaultdict(list)
    if dates and existing:
        for slab in ProductRate.objects.filter(
            product_id__in=[p.pk for p in existing.values()], effective_from__in=dates
        ):
            same_day[(slab.product_id, slab.effective_from)].append(slab)
    today = business_today()

    plans = []
    for outcome in good:
        row, data = outcome.row, outcome.row.data
        product = existing.get(data["code"])
        is_new = product is None
        fields = [name for name in PRODUCT_FIELDS if name in data]
        if product is None:
            product = Product(code=data["code"], category=data["category"])
            if not data.get("name"):
                row.fail("name", "A new product needs a name.")
        elif product.category != data["category"]:
            row.fail("category", "The category of an existing product cannot change.")
        before = {} if is_new else {name: _audit_value(getattr(product, name)) for name in fields}
        for name in fields:
            value = data[name]
            if value is None and name in _PRODUCT_TEXT:
                value = ""
            elif value is None and name == "eligible_segments":
                value = []
            setattr(product, name, value)
        for column, message in terms_problems(product):
            row.fail(column, message)
        _full_clean(product, row, exclude=["branches"])
        wanted_branches = None
        if "branches" in data:
            codes = data["branches"] or []
            unknown = [code for code in codes if context.branches.get(code) is None]
            if unknown:
                row.fail("branches", f"No branch with the code {', '.join(unknown)}.")
            else:
                wanted_branches = {context.branches[code].pk: code for code in codes}  # type: ignore[union-attr]
        rate = data.get("rate")
        effective_from = data.get("rate_effective_from")
        new_slab = None
        if (rate is None) != (effective_from is None):
            row.fail(
                "rate" if rate is None else "rate_effective_from", "A rate needs both rate and rate_effective_from."
            )
        elif rate is not None:
            if rate > Decimal(100):
                row.fail("rate", "A rate must be between -5% and 100% a year.")
            slabs = [] if is_new else same_day[(product.pk, effective_from)]
            # The base slab starts at the product's minimum amount, as add_product_rate requires.
            minimum = product.min_amount or Decimal(0)
            base = next((s for s in slabs if s.min_amount == minimum and s.min_term_months == 0), None)
            if base is not None and (
                base.rate != rate or base.max_amount is not None or base.max_term_months is not None
            ):
                row.fail(
                    "rate", f"A {base.rate}% rate is already set from {effective_from}; a rate is never overwritten."
                )
            elif base is None and slabs:
                row.fail("rate", f"Rate slabs are already set from {effective_from}; the base rate would overlap them.")
            elif base is None:
                if context.actor is not None and effective_from < today:
                    row.fail("rate_effective_from", "A new rate cannot take effect before today.")
                new_slab = ProductRate(effective_from=effective_from, rate=rate, min_amount=minimum)
        if not row.ok:
            continue
        changes = change_set(before, {name: _audit_value(getattr(product, name)) for name in fields})
        if is_new:
            changes.update({"code": [None, product.code], "category": [None, product.category]})
        current_branches = stored_branches.get(product.pk, {}) if product.pk else {}
        if wanted_branches is not None and set(wanted_branches) != set(current_branches):
            changes["branches"] = [
                sorted(b.code for b in context.branches.values() if b and b.pk in current_branches),
                sorted(wanted_branches.values()),
            ]
        if new_slab is not None:
            changes["rate"] = [None, f"{new_slab.rate} from {new_slab.effective_from.isoformat()}"]
        plans.append((outcome, product, is_new, changes, wanted_branches, new_slab))

    new_products = [product for _, product, is_new, _, _, _ in plans if is_new]
    if new_products:
        Product.objects.bulk_create(new_products)
    changed = [
        product for _, product, is_new, changes, _, _ in plans if not is_new and set(changes) & set(PRODUCT_FIELDS)
    ]
    if changed:
        now = timezone.now()
        for product in changed:
            product.updated_at = now
        Product.objects.bulk_update(changed, fields=[*PRODUCT_FIELDS, "updated_at"])
    add, remove, slabs = [], [], []
    for _, product, _, changes, wanted_branches, new_slab in plans:
        if "branches" in changes:
            current = stored_branches.get(product.pk, {})
            add.extend(through(product_id=product.pk, branch_id=b) for b in wanted_branches if b not in current)
            remove.extend(pk for b, pk in current.items() if b not in wanted_branches)
        if new_slab is not None:
            new_slab.product = product
            slabs.append(new_slab)
    if remove:
        through.objects.filter(pk__in=remove).delete()
    if add:
        through.objects.bulk_create(add)
    if slabs:
        ProductRate.objects.bulk_create(slabs)
    entries = []
    for outcome, product, is_new, changes, _, _ in plans:
        outcome.status = CREATED if is_new else (UPDATED if changes else UNCHANGED)
        if changes:
            entries.append(
                AuditEntry(
                    action="product.imported",
                    actor=context.actor,
                    object_type="products.product",
                    object_id=product.pk,
                    changes=changes,
                    metadata={"import_run": context.run.pk, "row": outcome.row.number, "operation": outcome.status},
                )
            )
    context.audit(entries)
    return outcomes


# --- interactions ----------------------------------------------------------------------------

INTERACTION_FIELDS = ("channel", "occurred_at", "subject", "body", "outcome", "next_step", "is_confidential")


def write_interactions(*, context: ImportContext, rows: list[ParsedRow]) -> list[Outcome]:
    """Interactions are immutable records: a known external id with the same content is
    unchanged; with different content the row fails (a correction is a new interaction)."""
    outcomes = [Outcome(row) for row in rows]
    good = [o for o in outcomes if o.row.ok]
    if not good:
        return outcomes
    refs = dict(
        ExternalReference.objects.filter(
            entity=ImportRun.Entity.INTERACTIONS, external_id__in=[o.row.data["external_id"] for o in good]
        ).values_list("external_id", "object_id")
    )
    stored = Interaction.objects.in_bulk(list(refs.values()))
    customers = dict(
        Customer.objects.filter(external_id__in={o.row.data["customer_external_id"] for o in good}).values_list(
            "external_id", "pk"
        )
    )
    context.resolve_authors(o.row.data["author_username"] for o in good)
    latest = timezone.now() + FUTURE_TOLERANCE
    plans = []
    for outcome in good:
        row, data = outcome.row, outcome.row.data
        customer_id = customers.get(data["customer_external_id"])
        if customer_id is None:
            row.fail("customer_external_id", f"No customer with the external id {data['customer_external_id']!r}.")
        author, problem = context.authors[data["author_username"]]
        if problem:
            row.fail("author_username", problem)
        interaction = Interaction(
            customer_id=customer_id,
            author_id=author.pk if author is not None else None,
            channel=data["channel"],
            occurred_at=data["occurred_at"],
            subject=data["subject"],
            body=data.get("body") or "",
            outcome=data.get("outcome") or "",
            next_step=data.get("next_step") or "",
            is_confidential=bool(data.get("is_confidential")),
        )
        if interaction.occurred_at > latest:
            row.fail("occurred_at", "An interaction cannot be in the future.")
        _full_clean(interaction, row, exclude=["customer", "author", "corrects"])
        if not row.ok:
            continue
        previous = stored.get(refs.get(data["external_id"], 0))
        if previous is not None:
            differing = [
                name
                for name in ("customer_id", "author_id", *INTERACTION_FIELDS)
                if getattr(previous, name) != getattr(interaction, name)
            ]
            if differing:
                column = {"customer_id": "customer_external_id", "author_id": "author_username"}.get(
                    differing[0], differing[0]
                )
                row.fail(
                    column,
                    "This interaction was already imported with different content; interactions cannot be "
                    "changed (log a correction as a new interaction).",
                )
            else:
                outcome.status = UNCHANGED
            continue
        plans.append((outcome, interaction))
    if plans:
        Interaction.objects.bulk_create([interaction for _, interaction in plans])
        ExternalReference.objects.bulk_create(
            [
                ExternalReference(
                    entity=ImportRun.Entity.INTERACTIONS,
                    external_id=outcome.row.data["external_id"],
                    object_id=interaction.pk,
                    run=context.run,
                )
                for outcome, interaction in plans
            ]
        )
    for outcome, _ in plans:
        outcome.status = CREATED
    context.audit(
        AuditEntry(
            action="interaction.imported",
            actor=context.actor,
            customer_id=interaction.customer_id,
            object_type="interactions.interaction",
            object_id=interaction.pk,
            # No text: free text about a customer may hold personal data.
            metadata={
                "import_run": context.run.pk,
                "row": outcome.row.number,
                "channel": interaction.channel,
                "confidential": interaction.is_confidential,
                "author": interaction.author_id,
            },
        )
        for outcome, interaction in plans
    )
    return outcomes


# --- FX rates --------------------------------------------------------------------------------


def write_fx_rates(*, context: ImportContext, rows: list[ParsedRow]) -> list[Outcome]:
    """FX rates are what the bank stated on a day: a pair and date already loaded with the same
    rate is unchanged; with another rate the row fails (reports already used it: an
    administrator corrects it in Django admin, audited, rather than a file silently rewriting it)."""
    outcomes = [Outcome(row) for row in rows]
    good = [o for o in outcomes if o.row.ok]
    if not good:
        return outcomes
    wanted = Q(pk__in=[])
    for outcome in good:
        rate_date, base, quote = outcome.row.data["pair_on_date"]
        wanted |= Q(rate_date=rate_date, base_currency=base, quote_currency=quote)
    stored = {(rate.rate_date, rate.base_currency, rate.quote_currency): rate for rate in FxRate.objects.filter(wanted)}
    plans = []
    for outcome in good:
        data = outcome.row.data
        previous = stored.get(data["pair_on_date"])
        if previous is not None:
            if previous.rate != data["rate"]:
                outcome.row.fail(
                    "rate",
                    f"A different rate ({previous.rate}) is already loaded for this pair and date; "
                    "correct it in Django admin (audited).",
                )
            else:
                outcome.status = UNCHANGED
            continue
        rate = FxRate(
            rate_date=data["rate_date"],
            base_currency=data["base_currency"],
            quote_currency=data["quote_currency"],
            rate=data["rate"],
            source=data.get("source") or context.run.file_name[:80],
        )
        _full_clean(rate, outcome.row, exclude=[])
        if outcome.row.ok:
            plans.append((outcome, rate))
    if plans and not context.dry_run:
        FxRate.objects.bulk_create([rate for _, rate in plans])
    for outcome, _ in plans:
        outcome.status = CREATED
    context.audit(
        AuditEntry(
            action="fx_rate.loaded",
            actor=context.actor,
            object_type="core.fxrate",
            object_id=rate.pk or "",
            changes={"rate": [None, str(rate.rate)]},
            metadata={
                "import_run": context.run.pk,
                "row": outcome.row.number,
                "pair": f"{rate.base_currency}/{rate.quote_currency}",
                "rate_date": rate.rate_date.isoformat(),
            },
        )
        for outcome, rate in plans
    )
    return outcomes


# The tables each import grows (their planner statistics are refreshed as they grow).
GROWN_MODELS: dict[str, tuple[type[models.Model], ...]] = {
    "customers": (Customer, CustomerUserObjectPermission, CustomerAssignment),
    "holdings": (Holding, HoldingParty),
    "products": (Product, ProductRate),
    "interactions": (Interaction, ExternalReference),
    "fx_rates": (FxRate,),
}

WRITERS: dict[str, Callable[..., list[Outcome]]] = {
    "customers": write_customers,
    "holdings": write_holdings,
    "products": write_products,
    "interactions": write_interactions,
    "fx_rates": write_fx_rates,
}


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    duplicates: int = 0
    last_row: int = 0

    def add(self, other: BatchResult) -> None:
        for name in ("created", "updated", "unchanged", "failed", "duplicates"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.last_row = max(self.last_row, other.last_row)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


def _error_rows(context: ImportContext, outcomes: list[Outcome]) -> list[ImportRowError]:
    errors = []
    for outcome in outcomes:
        for problem in outcome.row.problems:
            errors.append(
                ImportRowError(
                    run=context.run,
                    row_number=outcome.row.number,
                    column=problem.column[:64],
                    value=context.schema.mask(problem.column, outcome.row.raw.get(problem.column))[:200],
                    message=problem.message,
                    is_duplicate=outcome.duplicate,
                )
            )
    return errors


@transaction.atomic
def write_batch(*, context: ImportContext, rows: list[ParsedRow], failed_only: bool = False) -> BatchResult:
    """Upsert one batch, record its bad rows and move the run's counters, all in one transaction.

    The run's counters and last committed row change in the same transaction as the rows, so
    after a crash they describe exactly what was committed, and a re-run resumes after it.
    `failed_only` records the rows as failed without writing them (the last resort when the
    database refused a row the checks let through).
    """
    if failed_only:
        outcomes = [Outcome(row) for row in rows]
    else:
        outcomes = WRITERS[context.run.entity](context=context, rows=rows)
    result = BatchResult(last_row=max(row.number for row in rows))
    for outcome in outcomes:
        if outcome.row.problems:
            outcome.status = FAILED
        setattr(result, outcome.status, getattr(result, outcome.status) + 1)
        result.duplicates += outcome.duplicate
    errors = _error_rows(context, outcomes)
    if errors:
        ImportRowError.objects.bulk_create(errors)
    ImportRun.objects.filter(pk=context.run.pk).update(
        rows=F("rows") + result.rows,
        created=F("created") + result.created,
        updated=F("updated") + result.updated,
        unchanged=F("unchanged") + result.unchanged,
        failed=F("failed") + result.failed,
        duplicates=F("duplicates") + result.duplicates,
        last_committed_row=result.last_row,
    )
    return result
