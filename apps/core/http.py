"""Map domain errors onto pages: NotFound is the 404 page, others land on the form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.http import Http404

from apps.core.errors import DomainError, NotFound


@contextmanager
def domain_errors_on(form: forms.Form) -> Iterator[None]:
    try:
        yield
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
