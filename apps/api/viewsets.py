"""The base every API viewset builds on: selector querysets, ETags, locked updates.

A resource's viewset declares its selector in `get_queryset`, its output serializer in
`serializer_class`, its scopes in `required_scopes`, and decorates writes with
`idempotent()` (POSTs that create) or `conditional()` (changes to one object).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.conditional import etag_for


class ApiViewSet(viewsets.GenericViewSet):
    # Only what a viewset lists explicitly is routed; PUT and DELETE are never exposed
    # (records the bank must keep are closed by a status change, not deleted).
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"
    required_scopes: dict[str, str] = {}
    _locked_object: Model | None = None

    def represent(self, instance: Model) -> dict[str, Any]:
        """The representation clients read (and whose hash is the ETag)."""
        return self.serializer_class(instance, context=self.get_serializer_context()).data

    def respond_with(self, instance: Model, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        data = self.represent(instance)
        return Response(data, status=status, headers={**(headers or {}), "ETag": etag_for(data)})

    def get_object(self) -> Model:
        if self._locked_object is not None:
            return self._locked_object
        return super().get_object()

    def get_object_for_update(self) -> Model:
        """The object, locked for the rest of the transaction (still through the selector)."""
        queryset: QuerySet = self.get_queryset().select_for_update(of=("self",))
        lookup = self.lookup_url_kwarg or self.lookup_field
        self._locked_object = get_object_or_404(queryset, **{self.lookup_field: self.kwargs[lookup]})
        self.check_object_permissions(self.request, self._locked_object)
        return self._locked_object


class ListRetrieveMixin:
    """GET list (cursor-paginated) and GET detail with an ETag."""

    def list(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def retrieve(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.respond_with(self.get_object())
