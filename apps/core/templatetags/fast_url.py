"""`{% url %}` for every template (a builtin in settings.TEMPLATES), through apps.core.urls_fast.

Same syntax and same result as Django's tag; a link whose arguments are whole numbers is built
from the route's cached template instead of a resolver walk per row.
"""

from __future__ import annotations

from django import template
from django.template import Context
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from apps.core.urls_fast import fast_reverse

register = template.Library()


class FastURLNode(URLNode):
    def render(self, context: Context) -> str:
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        if not all(type(arg) is int for arg in args):
            return super().render(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        try:
            url = fast_reverse(self.view_name.resolve(context), *args, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
            url = ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> FastURLNode:
    node = django_url(parser, token)
    return FastURLNode(node.view_name, node.args, node.kwargs, node.asvar)
