"""Map domain errors onto pages: NotFound is the 404 page, others land on the form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.core.errors import DomainError, NotFound

READ_ONLY_MESSAGE = "Your role reads customer records but does not change them."


def refuse_read_only(*, may_edit: bool) -> None:
    """Pages that only exist to change something (forms) refuse read-only roles with a 403 that
    says why (the caller asks apps.customers.visibility.may_edit_customers); the services refuse
    the write itself either way."""
    if not may_edit:
        raise PermissionDenied(READ_ONLY_MESSAGE)


@contextmanager
def domain_errors_on(form: forms.Form) -> Iterator[None]:
    try:
        yield
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
