"""The cached {% url %} and fast_reverse give exactly what reverse() gives, for every route."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, get_resolver, reverse
from django.urls.resolvers import URLPattern, URLResolver

from apps.core.urls_fast import fast_reverse, url_former


def _named_routes(resolver: URLResolver | None = None, namespace: str = "") -> list[tuple[str, int]]:
    """(name, number of whole-number arguments) of every named route whose arguments are all ints."""
    resolver = resolver or get_resolver()
    routes = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes += _named_routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            converters = getattr(entry.pattern, "converters", {})
            if converters and all(type(c).__name__ == "IntConverter" for c in converters.values()):
                routes.append((f"{namespace}{entry.name}", len(converters)))
    return routes


def test_every_whole_number_route_reverses_the_same_way():
    routes = _named_routes()
    assert len(routes) > 20  # the project's detail, action and fragment routes

    for name, count in routes:
        args = [7 + n * 31 for n in range(count)]
        try:
            expected = reverse(name, args=args)
        except NoReverseMatch:
            continue  # a route only reachable through an include with its own arguments
        assert fast_reverse(name, *args) == expected, name
        assert fast_reverse(name, *args) == expected, name  # and from the cached template
        assert url_former(name, count)(*args) == expected, name  # one page's many links


def test_other_arguments_go_through_reverse():
    assert fast_reverse("customers:detail", "12") == reverse("customers:detail", args=["12"])
    assert url_former("customers:detail")("12") == reverse("customers:detail", args=["12"])
    with pytest.raises(NoReverseMatch):
        fast_reverse("customers:detail", "not-a-number")


def test_the_url_tag_matches_django_for_ints_strings_keywords_and_as():
    rendered = Template(
        "{% url 'customers:detail' 5 %}|{% url 'customers:detail' '6' %}|"
        "{% url 'customers:detail' customer_id=7 %}|{% url 'customers:detail' 8 as link %}{{ link }}|"
        "{% url 'no-such-route' 9 as missing %}[{{ missing }}]"
    ).render(Context({}))

    expected = [reverse("customers:detail", args=[n]) for n in (5, 6, 7, 8)]
    assert rendered == "|".join(expected) + "|[]"


def test_an_unknown_route_without_as_still_fails_loudly():
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no-such-route' 9 %}").render(Context({}))
