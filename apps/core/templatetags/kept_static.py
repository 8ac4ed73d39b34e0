"""`{% static %}` for the page shell: a fixed name's URL kept on its node per static storage.

With the manifest storage (settings.STORAGES), Django's `{% static "css/finpulse.css" %}` asks
the storage on every render: it splits and unquotes the name, looks its hashed name up in the
manifest and joins it to STATIC_URL, about 25 us a tag; base.html has four on every HTML page.
The manifest is read once when the storage is built, so a storage answers a name the same way
for as long as it lives (a deploy starts new processes with a new manifest).

Loaded after `static`, this library's `static` is Django's tag (parsed by its own
`StaticNode.handle_token`, same syntax); for a quoted name with no filter it keeps the URL the
storage gave, with the storage it came from and settings.DEBUG (the manifest storage answers
unhashed names under DEBUG). A new storage (Django builds one when STORAGES, STATIC_URL or
STATIC_ROOT change, as tests do) or another DEBUG asks the storage again, and any changed setting
empties every kept URL. A name from a variable, or with a filter, is Django's node, unchanged.
A name the storage refuses (not in the manifest) raises as before and is not kept.
"""

from __future__ import annotations

import weakref
from typing import Any

from django import template
from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.template.base import Parser, Token
from django.templatetags.static import StaticNode

register = template.Library()

_nodes: weakref.WeakSet[KeptStaticNode] = weakref.WeakSet()
_STATICFILES = "staticfiles"  # django.conf.STATICFILES_STORAGE_ALIAS


class KeptStaticNode(StaticNode):
    """Django's StaticNode for a quoted name, its URL kept with the storage and DEBUG it came from."""

    def __init__(self, node: StaticNode) -> None:
        super().__init__(node.varname, node.path)
        self._kept: tuple[object, bool, str] | None = None
        _nodes.add(self)

    def url(self, context: Any) -> str:
        storage = storages[_STATICFILES]
        debug = settings.DEBUG
        kept = self._kept
        if kept is not None and kept[0] is storage and kept[1] is debug:
            return kept[2]
        url: str = super().url(context)
        self._kept = (storage, debug, url)
        return url


@register.tag("static")
def kept_static(parser: Parser, token: Token) -> StaticNode:
    node = StaticNode.handle_token(parser, token)
    fixed = isinstance(node.path.var, str) and not node.path.filters
    return KeptStaticNode(node) if fixed else node


def forget_kept_static(**kwargs: Any) -> None:
    """Empty every kept URL (any setting may change what a storage answers)."""
    for node in list(_nodes):
        node._kept = None


setting_changed.connect(forget_kept_static, dispatch_uid="kept_static_forget")
