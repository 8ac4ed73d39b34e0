"""A body field of another JSON type than the schema's is a 400 problem naming it, not coerced.

Every write operation of the checked-in schema, every scalar property of its body: the test
sends the one value DRF's lenient fields would have taken (the number 12345 for a string, the
string "12" for an integer, "true" for a boolean, the float 1500.1 for a decimal string) and
expects the field named in the problem's errors. Schemathesis's negative mode found the
coercion at random (a number accepted as a lead's inquiry); this finds every case, every run.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.urls import resolve
from rest_framework import serializers

from apps.api.body_types import check_body_types
from apps.core.models import AuditEvent
from tests.api.conftest import problem
from tests.api.test_permission_matrix import CASES as OBJECT_OF

DOCUMENT = yaml.safe_load((settings.BASE_DIR / "docs" / "openapi.yaml").read_text())
COMPONENTS = DOCUMENT["components"]["schemas"]


def _scalar_type(schema: dict[str, Any]) -> tuple[str, str | None] | None:
    """(JSON type, format) of a property's schema, following references and oneOf/allOf."""
    if "$ref" in schema:
        return _scalar_type(COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]])
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema:
            kinds = {_scalar_type(part) for part in schema[combined]} - {None}
            return kinds.pop() if len(kinds) == 1 else None
    kind = schema.get("type")
    return (kind, schema.get("format")) if kind in ("string", "integer", "boolean") else None


WRONG_VALUES = {"string": 12345, "integer": "12", "boolean": "true"}


def _wrong_value(kind: str, fmt: str | None) -> Any:
    return 1500.1 if fmt == "decimal" else WRONG_VALUES[kind]


def _body_properties() -> list[tuple[str, str, str, Any]]:
    cases = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method not in ("post", "patch") or body is None:
                continue
            component = COMPONENTS[body["schema"]["$ref"].rsplit("/", 1)[-1]]
            for name, schema in component.get("properties", {}).items():
                scalar = None if schema.get("readOnly") else _scalar_type(schema)
                if scalar is not None:
                    cases.append((method.upper(), path, name, _wrong_value(*scalar)))
    return cases


CASES = _body_properties()


def test_every_write_operation_with_a_body_is_covered():
    operations = {(method, path) for method, path, _, _ in CASES}

    assert len(operations) >= 14, sorted(operations)
    assert ("POST", "/api/v1/leads/", "inquiry", 12345) in CASES


def _object_for(path: str, manager: Any) -> int:
    """An object of the path's resource in the manager's book (the permission matrix's builders)."""
    basename = resolve(path.replace("{id}", "1")).url_name.rsplit("-", 1)[0]
    return OBJECT_OF[basename](manager)


@pytest.mark.parametrize(("method", "path", "name", "value"), CASES, ids=[f"{m} {p} {n}" for m, p, n, _ in CASES])
def test_a_body_field_of_another_json_type_is_a_400_naming_it(manager_api, manager, method, path, name, value):
    url = path.replace("{id}", str(_object_for(path, manager))) if "{id}" in path else path
    events_before = AuditEvent.objects.count()

    response = manager_api.generic(
        method,
        url,
        json.dumps({name: value}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        HTTP_IF_MATCH="*",
    )

    assert response.status_code == 400, (response.status_code, response.content)
    errors = problem(response)["errors"]
    assert list(errors) == [name]
    assert errors[name][0].startswith("Expected "), errors
    assert AuditEvent.objects.count() == events_before  # nothing was written


class _Shapes(serializers.Serializer):
    tags = serializers.MultipleChoiceField(choices=["a", "b"])
    scores = serializers.ListField(child=serializers.IntegerField())
    priority = serializers.ChoiceField(choices=[(1, "Low"), (2, "High")])
    note = serializers.CharField(allow_null=True)


def test_lists_and_typed_choices_are_taken_as_the_schema_writes_them():
    shapes = _Shapes(data={})

    check_body_types(shapes, {"tags": ["a"], "scores": [1, 2], "priority": 2, "note": None})
    with pytest.raises(serializers.ValidationError) as refused:
        check_body_types(shapes, {"tags": ["a"], "priority": "2", "note": 7})

    assert set(refused.value.detail) == {"priority", "note"}
    assert refused.value.detail["note"] == ["Expected a string, got a number."]
