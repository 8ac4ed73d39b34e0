"""Free text has a limit, held by the database as well as by forms and the API.

A TextField's `max_length` reaches its form field (and DRF's model serializers) but Django
neither validates it on `full_clean` nor tells PostgreSQL: a 2,000,000-character note went
straight in. `bounded_text` gives the field its limit and validator; `text_length_check`
is the CheckConstraint that makes the database refuse what every other path let through.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

# The bank's limits for its free-text fields (characters).
NOTE_MAX_LENGTH = 20_000  # an interaction's notes
DESCRIPTION_MAX_LENGTH = 5_000  # task and product descriptions, a task's outcome
ADDRESS_MAX_LENGTH = 500
INQUIRY_MAX_LENGTH = 5_000  # a lead's raw inquiry


def bounded_text(max_length: int, **kwargs: Any) -> models.TextField:
    """A TextField whose limit reaches forms, serializers and `full_clean`."""
    return models.TextField(max_length=max_length, validators=[MaxLengthValidator(max_length)], **kwargs)


def text_length_check(field: str, max_length: int, *, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=LessThanOrEqual(Length(field), max_length), name=name)
