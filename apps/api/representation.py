"""Output serializers whose fields are built once per process, not once per response.

DRF builds a ModelSerializer's fields for every serializer it creates (the model field mapping,
a deep copy of each declared field), and writes each row through generic per-field machinery
(the readable-fields generator, `get_attribute` with its fallbacks). For a page of customers that
was a third of the API list's web CPU (issue 18, decision 119). `PlannedRepresentation` keeps one
bound copy of the serializer's fields per class and writes a row from a plan made of them: a
concrete model column is read straight off the instance, anything else through the field's own
`get_attribute`; every value still goes through the field's own `to_representation`, with DRF's
rule that None is written as None. The JSON is the same bytes, and the OpenAPI schema, which
drf-spectacular reads from `fields` (untouched), is the same.

Only fields that read nothing but the row can be shared between requests: plain fields and
primary-key or slug relations. A serializer with any other readable field (a method field, a
nested or hyperlinked one, a many relation, `source="*"`) refuses the plan with a TypeError on
first use, so it can never silently behave differently from DRF's path; a test makes every
plan and compares each with DRF's own output on real rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar

from rest_framework import fields as drf_fields
from rest_framework import relations, serializers

_SHAREABLE_RELATIONS = (relations.PrimaryKeyRelatedField, relations.SlugRelatedField)
_UNSHAREABLE_FIELDS = (drf_fields.SerializerMethodField, drf_fields.HiddenField, serializers.BaseSerializer)

# (output name, read the attribute from the row, the field's to_representation)
Step = tuple[str, Callable[[Any], Any], Callable[[Any], Any]]


def _shareable(field: drf_fields.Field) -> bool:
    if isinstance(field, _UNSHAREABLE_FIELDS) or field.source == "*":
        return False
    if isinstance(field, relations.RelatedField):
        return isinstance(field, _SHAREABLE_RELATIONS)
    return not isinstance(field, relations.ManyRelatedField)


def _concrete_columns(serializer: serializers.Serializer) -> frozenset[str]:
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None:
        return frozenset()
    return frozenset(field.attname for field in model._meta.concrete_fields if not field.is_relation)


# Mix in before the serializer's base (`class XOut(PlannedRepresentation, ModelSerializer)`) for a
# read-only output serializer whose rows need nothing but themselves (module docstring). No
# docstring on purpose: drf-spectacular would give it to every serializer without its own.
class PlannedRepresentation(serializers.Serializer):
    _plans: ClassVar[dict[type, list[Step]]] = {}
    _plans_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def representation_plan(cls) -> list[Step]:
        """The steps writing one row, made once per class from one bound copy of its fields."""
        plan = PlannedRepresentation._plans.get(cls)
        if plan is not None:
            return plan
        prototype = cls()
        columns = _concrete_columns(prototype)
        steps: list[Step] = []
        for field in prototype.fields.values():
            if field.write_only:
                continue
            if not _shareable(field):
                raise TypeError(f"{cls.__name__}.{field.field_name}: {type(field).__name__} cannot be planned")
            attrs = field.source_attrs
            plain = len(attrs) == 1 and attrs[0] in columns and not isinstance(field, relations.RelatedField)
            steps.append(
                (field.field_name, attrgetter(attrs[0]) if plain else field.get_attribute, field.to_representation)
            )
        with PlannedRepresentation._plans_lock:
            PlannedRepresentation._plans.setdefault(cls, steps)
        return PlannedRepresentation._plans[cls]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, read, represent in self.representation_plan():
            try:
                value = read(instance)
            except drf_fields.SkipField:
                continue
            # As DRF: None is written as None; a pk-only relation is None when its pk is.
            check = value.pk if isinstance(value, relations.PKOnlyObject) else value
            row[name] = None if check is None else represent(value)
        return row
