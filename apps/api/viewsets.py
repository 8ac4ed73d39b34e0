"""The base every API viewset builds on: selector querysets, ETags, locked updates.

A resource's viewset declares its selector in `get_queryset`, its output serializer in
`serializer_class`, its scopes in `required_scopes`, and decorates writes with
`idempotent()` (POSTs that create) or `conditional()` (changes to one object). Writes read
their input with `validated()` and answer a creation with `respond_created()`;
`documented_reads()` gives the list and detail operations their summaries and examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.body_types import check_body_types
from apps.api.conditional import etag_for

if TYPE_CHECKING:
    from apps.identity.models import User

ModelT = TypeVar("ModelT", bound=Model)


class ApiRequest(Request):
    """The request an API view is given: annotate views' `request` with it, not `Request`.

    Every API view requires a caller (DEFAULT_PERMISSION_CLASSES starts with IsAuthenticated)
    and every authentication class yields a user (an API key runs as its owner), so by the
    time a view runs `user` is a signed-in User, never AnonymousUser. Authentication,
    permission and throttling classes run before that is settled and keep `Request`.
    """

    user: User


class ApiViewSet(viewsets.GenericViewSet, Generic[ModelT]):
    """A resource's viewset: `ApiViewSet[Task]` reads and locks Task rows (its selector decides
    which), so `get_object()` is typed as the resource's model."""

    request: ApiRequest
    # Only what a viewset lists explicitly is routed; PUT and DELETE are never exposed
    # (records the bank must keep are closed by a status change, not deleted).
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"
    required_scopes: dict[str, str] = {}
    _locked_object: ModelT | None = None

    def represent(self, instance: Model) -> dict[str, Any]:
        """The representation clients read (and whose hash is the ETag)."""
        return self.serializer_class(instance, context=self.get_serializer_context()).data

    def respond_with(self, instance: Model, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        data = self.represent(instance)
        return Response(data, status=status, headers={**(headers or {}), "ETag": etag_for(data)})

    def validated(
        self, serializer_class: type[serializers.Serializer], data: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The request body (or `data`) as `serializer_class` validates it; invalid input is a 400 problem.

        A body's JSON types must be the schema's (`apps.api.body_types`); `data` built from a
        query string is parsed as the fields parse it."""
        if data is None:
            serializer = serializer_class(data=self.request.data, **kwargs)
            check_body_types(serializer, self.request.data)
        else:
            serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond_created(self, instance: Model) -> Response:
        """201 with the representation and its ETag; Location is the new object's detail URL."""
        location = reverse(f"api:{self.basename}-detail", args=[instance.pk])
        return self.respond_with(instance, status=201, headers={"Location": location})

    def get_object(self) -> ModelT:
        if self._locked_object is not None:
            return self._locked_object
        return super().get_object()

    def get_object_for_update(self) -> ModelT:
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


ViewSetT = TypeVar("ViewSetT", bound=type)


def documented_reads(
    example: dict[str, Any], *, listed: tuple[str, str], one: tuple[str, str]
) -> Callable[[ViewSetT], ViewSetT]:
    """The OpenAPI summaries of a resource's list and detail operations, with their example
    responses: `listed` and `one` are (summary, example name); the list's example is a page
    holding `example`, the detail's `example` itself."""
    (list_summary, page_name), (one_summary, one_name) = listed, one
    return extend_schema_view(
        list=extend_schema(
            summary=list_summary, examples=[OpenApiExample(page_name, value=[example], response_only=True)]
        ),
        retrieve=extend_schema(
            summary=one_summary, examples=[OpenApiExample(one_name, value=example, response_only=True)]
        ),
    )
