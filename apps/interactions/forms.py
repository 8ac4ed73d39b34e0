"""Interaction forms: shape input only; the services decide and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.presentation import translated_choices
from apps.core.text_limits import NOTE_MAX_LENGTH
from apps.interactions.files import ALLOWED, MAX_FILES
from apps.interactions.models import Interaction

_ACCEPT = ",".join(sorted(ALLOWED))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by content in the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": _ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=translated_choices(Interaction.Channel.choices))
    occurred_at = forms.DateTimeField(
        label=_("When"),
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    is_confidential = forms.BooleanField(
        label=_("Confidential (only me, the customer's manager and compliance)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "occurred_at" not in self.initial:
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)


class NewInteractionForm(InteractionForm):
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_mb = settings.FINPULSE_ATTACHMENT_MAX_BYTES // (1024 * 1024)
        self.fields["attachments"].help_text = gettext(
            "Up to %(files)s files of at most %(mb)s MB each: PDF, PNG, JPEG, text, CSV, Word or Excel."
        ) % {"files": MAX_FILES, "mb": limit_mb}


class FileCapturedEmailForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer number"), max_length=64, help_text=_("The customer this email is about (one of yours).")
    )
