"""Scopes: what an API key may do, on top of what its owner may see.

A viewset declares `required_scopes = {"read": ..., "write": ..., "<action>": ...}`. The same
scope→permission table bounds session and bearer-token callers by their role, so every caller
of an endpoint is held to one rule. A view that declares no scope answers nobody (fail closed).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from apps.api.authentication import api_key_of
from apps.api.exceptions import InsufficientScope
from apps.api.services import owner_may_hold


def required_scope(view: Any, request: Request) -> str | None:
    scopes: dict[str, str] = getattr(view, "required_scopes", None) or {}
    action = getattr(view, "action", None)
    if action in scopes:
        return scopes[action]
    return scopes.get("read") if request.method in SAFE_METHODS else scopes.get("write")


class HasScope(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        scope = required_scope(view, request)
        if scope is None:
            return False
        api_key = api_key_of(request)
        if api_key is not None and not api_key.has_scope(scope):
            raise InsufficientScope(f"This API key does not have the '{scope}' scope.")
        if not owner_may_hold(request.user, scope):
            who = "this API key's owner" if api_key is not None else "your role"
            raise InsufficientScope(f"The '{scope}' scope is not allowed for {who}.")
        return True
