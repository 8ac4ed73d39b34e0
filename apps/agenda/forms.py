"""Calendar forms: shape input only; the services decide and save."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.text_limits import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH
from apps.tasks.forms import DateTimeLocalInput

_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
DEFAULT_LENGTH = dt.timedelta(hours=1)


class AttendeeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def _when(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, widget=DateTimeLocalInput(), input_formats=_FORMATS)


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = _when(_("Starts"))
    ends_at = _when(_("Ends"))
    location = forms.CharField(
        label=_("Place"), max_length=200, required=False, help_text=_("A branch, an office or an address.")
    )
    video_url = forms.URLField(
        label=_("Video call link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("https:// link; give a place, a link or both."),
    )
    attendees = AttendeeChoiceField(
        label=_("Colleagues to invite"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only colleagues who can open this customer can be invited."),
    )
    agenda = forms.CharField(
        label=_("Agenda"), required=False, max_length=DESCRIPTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    invite_customer = forms.BooleanField(
        label=_("Send the invitation to the customer too"),
        required=False,
        help_text=_(
            "To the email address on file, if the customer agreed to service notices by email. "
            "Their copy shows the title, time, place and agenda."
        ),
    )

    def __init__(self, *args: Any, attendees: Any, **kwargs: Any) -> None:
        """`attendees`: who may be invited (apps.agenda.selectors.meeting_attendee_choices)."""
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = attendees
        if not self.is_bound and "starts_at" not in self.initial:
            start = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
            self.initial.update(starts_at=start, ends_at=start + DEFAULT_LENGTH)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The meeting must end after it starts."))
        if not data.get("location") and not data.get("video_url") and "video_url" not in self.errors:
            self.add_error("location", _("Give a place or a video call link."))
        return data


class LogMeetingForm(forms.Form):
    notes = forms.CharField(
        label=_("What was discussed"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)


class CalendarNavForm(forms.Form):
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
