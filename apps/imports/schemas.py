"""What each import file may contain, and how a row becomes a validated, normalised dict.

A schema checks one row on its own (required fields, types, dates, currency codes, enums);
rules that need the database or the model (references, duplicates, a model's clean()) are
checked by the batch writers. Documented column by column in docs/imports.md.

Empty cells: a column that may be empty is cleared by an empty cell; a column that cannot be
empty (kind, segment, status...) keeps its stored value (a new row gets the default). A
column missing from the file leaves the stored value alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from apps.accounts.models import Holding, HoldingParty
from apps.core.currencies import ISO_CURRENCIES
from apps.core.masking import mask_email, mask_national_id, mask_phone, mask_value
from apps.core.text_limits import ADDRESS_MAX_LENGTH, DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH
from apps.customers import validation as customer_rules
from apps.customers.models import Customer
from apps.interactions.models import Interaction
from apps.products.models import Product, RiskProfile, Segment

LIST_SEPARATORS = re.compile(r"\s*[|;]\s*")

# Parsers never repeat the value in their message: the report shows it in its own column,
# masked when it is personal data.
Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    required: bool = False
    # "clear": an empty cell stores an empty value; "keep": it leaves the stored value.
    empty: str = "clear"
    # Masking for the error report (and never echoed elsewhere): a function, or None.
    mask: Callable[[Any], str] | None = None


@dataclass
class FieldProblem:
    column: str
    message: str


@dataclass
class ParsedRow:
    number: int
    raw: dict[str, Any]
    data: dict[str, Any]
    problems: list[FieldProblem]
    # How many problems the schema found; the writers' come after and are undone on a retry.
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def reset(self) -> None:
        del self.problems[self.checked :]

    def fail(self, column: str, message: str) -> None:
        self.problems.append(FieldProblem(column, message))


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- value parsers: each returns the normalised value or raises ValueError(message) ---------


def text(max_length: int, *, upper: bool = False) -> Parser:
    def parse(value: Any) -> str:
        result = customer_rules.text(max_length)(value)
        return result.upper() if upper else result

    return parse


external_id = customer_rules.external_id


def choice(choices: type[models.Choices]) -> Parser:
    """Accept the stored value or the label, in any case ('Term deposit' or 'term_deposit')."""
    lookup: dict[str, Any] = {}
    for value, label in choices.choices:
        lookup[str(value).lower()] = value
        lookup[str(label).lower()] = value
        lookup[str(label).lower().replace(" ", "_")] = value

    def parse(raw: Any) -> Any:
        key = str(raw).strip().lower()
        if key not in lookup:
            allowed = ", ".join(str(v) for v in choices.values)
            raise ValueError(f"Not one of: {allowed}.")
        return lookup[key]

    return parse


def date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("Not a date in the form YYYY-MM-DD.") from None


def aware_datetime(value: Any) -> dt.datetime:
    """ISO 8601; a time without an offset is the bank's local time (TIME_ZONE)."""
    try:
        moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Not a date and time in ISO 8601 form (2025-10-01T10:30:00+01:00).") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def decimal(max_digits: int, places: int, *, minimum: Decimal | None = None) -> Parser:
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValueError("Expected a number.")
        raw = str(value).strip()
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise ValueError("Not a number (use a dot for decimals, no thousands separators).") from None
        if not number.is_finite():
            raise ValueError("Not a number.")
        # Size first: quantizing 1e309 would overflow the decimal context.
        if abs(number) >= Decimal(10) ** (max_digits - places):
            raise ValueError("The number is too large.")
        if number != number.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(f"At most {places} decimal places.")
        if minimum is not None and number < minimum:
            raise ValueError(f"Cannot be below {minimum}.")
        return number

    return parse


def integer(*, minimum: int = 0, maximum: int = 32767) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("Expected a whole number.")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("Not a whole number.") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"Must be between {minimum} and {maximum}.")
        return number

    return parse


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError("Not yes/no (true, false, yes, no, 1, 0).")


def currency(value: Any) -> str:
    code = str(value).strip().upper()
    if code not in ISO_CURRENCIES:
        raise ValueError("Not a currency code we deal in (ISO 4217).")
    return code


country = customer_rules.country


def email(value: Any) -> str:
    address = text(254)(value)
    try:
        validate_email(address)
    except ValidationError:
        raise ValueError("Not a valid email address.") from None
    return address


phone = customer_rules.phone
national_id = customer_rules.national_id


def list_of(item: Parser) -> Parser:
    """'a|b' or 'a;b' in CSV, a JSON list in JSON Lines."""

    def parse(value: Any) -> list[Any]:
        items: Iterable[Any] = value if isinstance(value, list) else LIST_SEPARATORS.split(str(value).strip())
        result = []
        for raw in items:
            if _is_empty(raw):
                continue
            parsed = item(raw)
            if parsed not in result:
                result.append(parsed)
        return result

    return parse


def parties(value: Any) -> list[tuple[str, str]]:
    """'CB001:owner|CB002:joint' (role defaults to owner); JSON: [{"customer": .., "role": ..}]."""
    role = choice(HoldingParty.Role)
    entries: list[tuple[Any, Any]] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                entries.append((item.get("customer") or item.get("customer_external_id"), item.get("role") or "owner"))
            else:
                entries.append(tuple(str(item).partition(":")[::2]))  # type: ignore[arg-type]
    else:
        for item in LIST_SEPARATORS.split(str(value).strip()):
            if item:
                customer, _, given_role = item.partition(":")
                entries.append((customer, given_role or "owner"))
    result: list[tuple[str, str]] = []
    seen: set[str] = set()
    for customer, given_role in entries:
        customer_id = external_id(customer or "")
        if not customer_id:
            raise ValueError("Each party needs a customer external id.")
        if customer_id in seen:
            raise ValueError(f"Customer {customer_id} is listed twice.")
        seen.add(customer_id)
        result.append((customer_id, role(given_role or "owner")))
    if not result:
        raise ValueError("A holding needs at least one customer.")
    return result


def _risk_profile(value: Any) -> int:
    return int(choice(RiskProfile)(value))


def _redact(value: Any) -> str:
    return mask_value(value)


# --- schemas ---------------------------------------------------------------------------------


class Schema:
    entity: str = ""
    key: str = "external_id"
    columns: tuple[Column, ...] = ()

    def __init__(self) -> None:
        self.by_name = {column.name: column for column in self.columns}

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def check_header(self, header: Iterable[str], *, optional: Iterable[str] = ()) -> list[str]:
        """File-level problems with the header (unknown or missing columns)."""
        header = list(header)
        problems = []
        unknown = [name for name in header if name not in self.by_name]
        if unknown:
            problems.append(
                f"Unknown column(s): {', '.join(unknown)}. Known columns: {', '.join(self.by_name)} (docs/imports.md)."
            )
        missing = [name for name in self.required if name not in header and name not in optional]
        if missing:
            problems.append(f"Missing required column(s): {', '.join(missing)}.")
        return problems

    def mask(self, column: str, value: Any) -> str:
        """The value as the error report may show it."""
        if value is None:
            return ""
        # The report is stored in PostgreSQL text, which cannot hold NUL: show it escaped.
        text_value = (value if isinstance(value, str) else str(value)).replace("\x00", "\\x00")
        spec = self.by_name.get(column)
        if spec is not None and spec.mask is not None:
            return spec.mask(text_value)
        return text_value[:200]

    def parse(self, number: int, raw: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> ParsedRow:
        row = ParsedRow(number=number, raw=raw, data={}, problems=[])
        for name in raw:
            if name not in self.by_name:
                row.fail(name, "Unknown column.")
        for column in self.columns:
            present = column.name in raw
            value = raw.get(column.name)
            if (not present or _is_empty(value)) and defaults and column.name in defaults:
                present, value = True, defaults[column.name]
            if not present:
                if column.required:
                    row.fail(column.name, "This column is required.")
                continue
            if _is_empty(value):
                if column.required:
                    row.fail(column.name, "A value is required.")
                elif column.empty == "clear":
                    row.data[column.name] = None
                continue
            try:
                customer_rules.no_nul(value)
                row.data[column.name] = column.parse(value)
            except ValueError as error:
                row.fail(column.name, str(error))
        row.checked = len(row.problems)
        return row


class CustomerSchema(Schema):
    entity = "customers"
    columns = (
        Column("external_id", external_id, required=True),
        Column("kind", choice(Customer.Kind), empty="keep"),
        Column("first_name", text(80)),
        Column("last_name", text(80)),
        Column("company_name", text(160)),
        Column("date_of_birth", date, mask=_redact),
        Column("national_id", national_id, mask=mask_national_id),
        Column("email", email, mask=mask_email),
        Column("phone", phone, mask=mask_phone),
        Column("address", text(ADDRESS_MAX_LENGTH), mask=_redact),
        Column("country", country, empty="keep"),
        Column("segment", choice(Segment), empty="keep"),
        Column("risk_profile", _risk_profile, empty="keep"),
        Column("annual_income", decimal(14, 2)),
        Column("income_currency", currency, empty="keep"),
        Column("kyc_status", choice(Customer.KycStatus), empty="keep"),
        Column("kyc_review_date", date),
        Column("status", choice(Customer.Status), empty="keep"),
        Column("customer_since", date),
        # Required for a new customer; an existing one keeps its branch when empty.
        Column("branch_code", text(16, upper=True), empty="keep"),
        # Empty: the customer keeps the manager they have (an import never unassigns).
        Column("manager_username", text(150), empty="keep"),
    )


class HoldingSchema(Schema):
    entity = "holdings"
    columns = (
        Column("external_id", external_id, required=True),
        Column("category", choice(Holding.Category), required=True),
        Column("product_code", text(32, upper=True), required=True),
        Column("parties", parties, required=True),
        Column("number", customer_rules.holding_number, mask=_redact),
        Column("currency", currency, required=True),
        Column("balance", decimal(18, 2), empty="keep"),
        Column("credit_limit", decimal(18, 2)),
        Column("rate", decimal(7, 4)),
        Column("opened_on", date, required=True),
        Column("maturity_date", date),
        Column("maturity_instruction", choice(Holding.MaturityInstruction)),
        Column("status", choice(Holding.Status), empty="keep"),
    )


class ProductSchema(Schema):
    entity = "products"
    key = "code"
    columns = (
        Column("code", text(32, upper=True), required=True),
        Column("name", text(120), empty="keep"),
        Column("category", choice(Product.Category), required=True),
        Column("description", text(DESCRIPTION_MAX_LENGTH)),
        Column("currency", currency, empty="keep"),
        Column("min_term_months", integer()),
        Column("max_term_months", integer()),
        Column("min_amount", decimal(16, 2)),
        Column("max_amount", decimal(16, 2)),
        Column("min_age", integer(maximum=150)),
        Column("max_age", integer(maximum=150)),
        Column("min_annual_income", decimal(14, 2, minimum=Decimal(0))),
        Column("eligible_segments", list_of(choice(Segment))),
        Column("min_risk_profile", _risk_profile),
        Column("max_risk_profile", _risk_profile),
        Column("for_individuals", boolean, empty="keep"),
        Column("for_businesses", boolean, empty="keep"),
        Column("is_active", boolean, empty="keep"),
        Column("branches", list_of(text(16, upper=True))),
        # A base rate slab (any amount, any term) from a date; a change is a new dated slab.
        Column("rate", decimal(7, 4, minimum=Decimal(-5))),
        Column("rate_effective_from", date),
    )


class InteractionSchema(Schema):
    entity = "interactions"
    columns = (
        Column("external_id", external_id, required=True),
        Column("customer_external_id", external_id, required=True),
        Column("author_username", text(150), required=True),
        Column("channel", choice(Interaction.Channel), required=True),
        Column("occurred_at", aware_datetime, required=True),
        # Free text about a customer may hold personal data: never echoed in the report.
        Column("subject", text(200), required=True, mask=_redact),
        Column("body", text(NOTE_MAX_LENGTH), mask=_redact),
        Column("outcome", text(300), mask=_redact),
        Column("next_step", text(300), mask=_redact),
        Column("is_confidential", boolean, empty="keep"),
    )


class FxRateSchema(Schema):
    """A rate the bank states: on `rate_date`, 1 `base_currency` = `rate` `quote_currency`."""

    entity = "fx_rates"
    key = "pair_on_date"  # not a column: set by parse, so a pair and date twice in a file is a duplicate
    columns = (
        Column("rate_date", date, required=True),
        Column("base_currency", currency, required=True),
        Column("quote_currency", currency, required=True),
        Column("rate", decimal(20, 10, minimum=Decimal("0.0000000001")), required=True),
        Column("source", text(80)),
    )

    def parse(self, number: int, raw: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> ParsedRow:
        row = super().parse(number, raw, defaults=defaults)
        data = row.data
        if data.get("base_currency") and data.get("base_currency") == data.get("quote_currency"):
            row.fail("quote_currency", "A rate converts between two different currencies.")
        if row.ok:
            data["pair_on_date"] = (data["rate_date"], data["base_currency"], data["quote_currency"])
        return row


SCHEMAS: dict[str, type[Schema]] = {
    "customers": CustomerSchema,
    "holdings": HoldingSchema,
    "products": ProductSchema,
    "interactions": InteractionSchema,
    "fx_rates": FxRateSchema,
}
