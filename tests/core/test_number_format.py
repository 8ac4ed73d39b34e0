"""Rates and amount limits read as a banker writes them (the |percent, |rate_range filters and
the amount_range / term_range tags)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from apps.core.templatetags.finpulse import (
    format_amount_range,
    format_rate,
    format_rate_range,
    format_term_range,
)

D = Decimal


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (D("4.1000"), "4.10%"),
        (D("4.1"), "4.10%"),
        (D("4.1250"), "4.125%"),
        (D("0.0000"), "0.00%"),
        (D("-0.5000"), "-0.50%"),
        (D("19.9"), "19.90%"),
        (None, "—"),
    ],
)
def test_a_rate_has_two_decimal_places_and_more_only_when_it_needs_them(rate, text):
    assert format_rate(rate) == text


def test_a_rate_is_never_a_float():
    with pytest.raises(TypeError):
        format_rate(4.1)


def test_a_rate_range_runs_from_lowest_to_highest_whatever_the_order_of_the_slabs():
    class Slab:
        def __init__(self, rate: str) -> None:
            self.rate = D(rate)

    # A loan's slabs by amount: the bigger the loan, the lower the rate.
    assert format_rate_range([Slab("9.9000"), Slab("7.2000"), Slab("6.5000")]) == "6.50% – 9.90%"
    assert format_rate_range([Slab("4.1000"), Slab("4.1000")]) == "4.10%"
    assert format_rate_range([]) == "—"


@pytest.mark.parametrize(
    ("low", "high", "slab", "text"),
    [
        (D("10000"), None, False, "10,000 GBP and above"),
        (D("1000"), D("50000"), False, "1,000 to 50,000 GBP"),
        (None, D("50000"), False, "Up to 50,000 GBP"),
        (D("0"), None, False, "Any amount"),
        (D("0"), D("10000"), True, "Under 10,000 GBP"),
        (D("10000"), D("100000"), True, "10,000 to under 100,000 GBP"),
        (D("100000"), None, True, "100,000 GBP and above"),
        (D("1.50"), None, False, "1.50 GBP and above"),
    ],
)
def test_amount_limits_say_and_above_instead_of_a_dangling_dash(low, high, slab, text):
    assert format_amount_range(low, high, "GBP", below_high=slab) == text


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [(3, 60, "3 to 60 months"), (12, None, "12 months and above"), (0, 12, "Up to 12 months"), (None, None, "—")],
)
def test_terms_read_as_words(low, high, text):
    assert format_term_range(low, high) == text


def test_the_template_filters_and_tags_print_the_same_words():
    template = Template(
        "{% load finpulse %}{{ rate|percent }} | {% amount_range low None 'GBP' %} | {% term_range 6 None %}"
    )

    text = template.render(Context({"rate": D("4.1000"), "low": D("10000.00")}))

    assert text == "4.10% | 10,000 GBP and above | 6 months and above"
