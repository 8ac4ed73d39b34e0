"""The API's only parser: JSON, bounded in size and nesting before it is decoded.

Python's json module recurses once per `[` or `{`: a body of a few thousand brackets raised
RecursionError, which no handler expected, and the client got a 500 page. The size and the
depth are checked on the raw bytes first (one pass, strings skipped), so a hostile body costs
one bounded read and a regular-expression scan, and every refusal is problem JSON. A NUL
character anywhere in the body is refused too: no PostgreSQL text column can store one.
"""

from __future__ import annotations

import codecs
import re
from typing import IO, Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

from apps.api.exceptions import Problem

# A JSON string (escapes included) or a bracket; everything else cannot change the depth.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class BodyTooLarge(Problem):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body-too-large"
    title = "Request body too large"
    default_detail = "The request body is larger than the API accepts."


class NestedTooDeep(Problem):
    default_code = "parse-error"
    title = "JSON nested too deeply"
    default_detail = "The JSON body is nested more deeply than the API accepts."


class NulCharacter(Problem):
    default_code = "nul-character"
    title = "NUL character in the body"
    default_detail = "The body holds a NUL character (\\u0000), which no field can store."


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in `raw` (brackets inside strings do not count)."""
    depth = deepest = 0
    if raw.count(b"[") + raw.count(b"{") == 0:
        return 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """JSON with a body-size cap (API_MAX_BODY_BYTES) and a nesting cap (API_MAX_JSON_DEPTH)."""

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return None
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
        max_depth = settings.API_MAX_JSON_DEPTH
        if json_depth(raw) > max_depth:
            raise NestedTooDeep(f"The JSON body is nested more than {max_depth} levels deep.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError as error:  # a depth the scan missed must still not be a 500
            raise NestedTooDeep() from error
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        # PostgreSQL text cannot hold NUL: refused here once, for every field and lookup
        # (a NUL in a related field's slug reached the query as a 500).
        if holds_nul(data):
            raise NulCharacter()
        return data
