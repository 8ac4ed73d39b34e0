"""Cursor pagination: stable under inserts, no COUNT(*), constant cost on any page."""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Any
from urllib import parse

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from apps.api.exceptions import Problem

MAX_POSITION = 2**63 - 1  # ids are PostgreSQL bigints (apps.api.schema.MAX_ID; that module imports this one)


class InvalidCursor(Problem):
    default_code = "invalid-cursor"
    title = "Invalid cursor"
    default_detail = "This cursor does not point at a page; start again from the first page."


class IdCursorPagination(CursorPagination):
    # The primary key is unique and never changes, which a cursor needs to be exact.
    ordering = "id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    # A cursor is only ever one this class wrote. Anything else is a 400 problem: DRF's own
    # decoder ignored unknown keys and non-alphabet characters, so garbage such as "Zm9v"
    # served the first page, and a non-numeric position reached the query as a 500.
    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
        except (ValueError, binascii.Error):
            raise InvalidCursor() from None
        if not tokens or set(tokens) - {"o", "r", "p"} or any(len(values) != 1 for values in tokens.values()):
            raise InvalidCursor()
        offset, reverse, position = tokens.get("o", ["0"])[0], tokens.get("r", ["0"])[0], tokens.get("p", [None])[0]
        if not offset.isdigit() or int(offset) > self.offset_cutoff or reverse not in ("0", "1"):
            raise InvalidCursor()
        if position is not None and not (position.isdigit() and 0 <= int(position) <= MAX_POSITION):
            raise InvalidCursor()
        return Cursor(offset=int(offset), reverse=reverse == "1", position=position)

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
