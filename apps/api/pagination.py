"""Cursor pagination: stable under inserts, no COUNT(*), constant cost on any page."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class IdCursorPagination(CursorPagination):
    # The primary key is unique and never changes, which a cursor needs to be exact.
    ordering = "id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    # A cursor that does not decode points at no page: 404, as DRF answers (problem JSON).
    invalid_cursor_message = "This cursor does not point at a page; start again from the first page."

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if not 1 <= size <= self.max_page_size:
                raise ValidationError(
                    {self.page_size_query_param: [f"Choose a page size from 1 to {self.max_page_size}."]}
                )
            return size
        return self.page_size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
