"""A request body's JSON types are the schema's, checked before its values are parsed.

DRF's fields are lenient: a CharField takes the number 12 as "12", an IntegerField takes the
string "12", a BooleanField takes "yes" and 1, a DecimalField takes the float 1500.1. The API's
published schema says which JSON type each field is, so a client that sends another one has
misread the contract (or sends money as a binary float, which cannot hold every amount), and
is told so in a 400 problem naming the field, rather than having its value coerced. Bodies are
JSON only (`apps.api.parsers`), so the types are JSON's; query strings are not checked here.
"""

from __future__ import annotations

from typing import Any

from rest_framework import fields, relations, serializers

JSON_TYPE_NAMES: dict[type, str] = {str: "a string", int: "an integer", bool: "a boolean"}
# Fields whose JSON is a string: text, and the values the schema writes as strings (decimals, dates, slugs).
_TEXTUAL = (fields.CharField, fields.DecimalField, fields.DateField, fields.DateTimeField, relations.SlugRelatedField)


def _json_type(field: fields.Field) -> type | None:
    """The JSON type `field` takes (str, int or bool), or None where it is not one scalar type."""
    if isinstance(field, fields.BooleanField):
        return bool
    if isinstance(field, fields.MultipleChoiceField):  # a list of choices
        return None
    if isinstance(field, fields.ChoiceField):
        kinds = {type(value) for value in field.choices}
        return kinds.pop() if len(kinds) == 1 and kinds <= {str, int} else None
    if isinstance(field, fields.IntegerField | relations.PrimaryKeyRelatedField):
        return int
    return str if isinstance(field, _TEXTUAL) else None


def _json_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def _holds(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def check_body_types(serializer: serializers.Serializer, body: Any) -> None:
    """Raise a ValidationError naming every field of `body` whose JSON type is not the schema's."""
    if not isinstance(body, dict):
        return  # the serializer itself answers "expected an object"
    errors: dict[str, list[str]] = {}
    for name, field in serializer.fields.items():
        if field.read_only or name not in body:
            continue
        value, expected = body[name], _json_type(field)
        if expected is None or value is None or _holds(value, expected):
            continue  # None is the field's own to refuse ("may not be null") or take
        hint = ' Send amounts as a decimal string, e.g. "1500.50".' if isinstance(field, fields.DecimalField) else ""
        errors[name] = [f"Expected {JSON_TYPE_NAMES[expected]}, got {_json_name(value)}.{hint}"]
    if errors:
        raise serializers.ValidationError(errors)
