"""Filters shared by the API's resources."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from apps.api.schema import ID_SCHEMA, MAX_ID


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """An object id (e.g. ?customer=42): a positive integer, documented as one."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "pattern": "^[^\\u0000]*$"})
class TextFilter(django_filters.CharFilter):
    """An exact text match. Any length is accepted (a value longer than the column matches
    nothing); NUL characters cannot be stored in PostgreSQL text, so they are refused."""


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601 date-time normalised to UTC.

    PostgreSQL refuses offsets beyond ±15:59 that ISO allows, and a value near year 1 or 9999
    can fall outside Python's range once converted: both would crash the query.
    As a filter bound, a value beyond the range is the range's end.
    """

    def to_python(self, value: Any) -> dt.datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            edge = dt.datetime.min if parsed.year < 5000 else dt.datetime.max
            return edge.replace(tzinfo=dt.UTC)


@extend_schema_field(OpenApiTypes.DATETIME)
class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
