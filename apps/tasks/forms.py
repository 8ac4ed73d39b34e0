"""Task forms: shape input only; the services decide and save."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.presentation import translated_choices
from apps.core.text_limits import DESCRIPTION_MAX_LENGTH
from apps.tasks.models import Task
from apps.tasks.selectors import WHEN_CHOICES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from apps.identity.models import User

_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
NOT_ASSIGNABLE = _("This person cannot see the customer, so the task cannot be assigned to them.")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _when_field(label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=required, help_text=help_text, widget=DateTimeLocalInput(), input_formats=_FORMATS
    )


class AssigneeChoiceField(forms.ModelChoiceField):
    default_error_messages = {"invalid_choice": NOT_ASSIGNABLE}

    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class _ScheduleMixin:
    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        due_at, reminder_at = data.get("due_at"), data.get("reminder_at")
        if due_at and reminder_at and reminder_at > due_at:
            self.add_error("reminder_at", _("The reminder must come before the due time."))  # type: ignore[attr-defined]
        return data


class TaskForm(_ScheduleMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = _when_field(_("Due"))
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=translated_choices(Task.Priority.choices),
        coerce=int,
        initial=Task.Priority.NORMAL,
        required=False,
        empty_value=Task.Priority.NORMAL,
    )
    reminder_at = _when_field(_("Remind me at"), required=False, help_text=_("Optional; before the due time."))
    assignee = AssigneeChoiceField(queryset=None, empty_label=None, label=_("Assignee"))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, assignees: Any, user: User | None = None, **kwargs: Any) -> None:
        """`assignees`: the users who may hold this customer's tasks (assignable_users)."""
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees
        if not self.is_bound:
            tomorrow = timezone.localtime() + dt.timedelta(days=1)
            self.initial.setdefault("due_at", tomorrow.replace(hour=10, minute=0, second=0, microsecond=0))
            if user is not None:
                self.initial.setdefault("assignee", user.pk)


class CompleteTaskForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"), required=False, max_length=DESCRIPTION_MAX_LENGTH, widget=forms.TextInput()
    )


class RescheduleTaskForm(_ScheduleMixin, forms.Form):
    due_at = _when_field(_("New due time"))
    reminder_at = _when_field(_("Remind me at"), required=False)


class ReassignTaskForm(forms.Form):
    assignee = AssigneeChoiceField(queryset=None, empty_label=None, label=_("Give to"))

    def __init__(self, *args: Any, assignees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees


class TaskFilterForm(forms.Form):
    when = forms.ChoiceField(choices=WHEN_CHOICES, required=False)


class NewTaskForm(TaskForm):
    """From the task list or the dashboard: the customer is found by name (or number) as one types."""

    customer = forms.CharField(
        label=_("Customer"),
        max_length=300,
        help_text=_("Type part of the name or the customer number, then choose the customer from the list."),
    )
    field_order = ["customer", "title", "due_at", "priority", "reminder_at", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The customer is not known until the form is read: the task goes to its author.
        del self.fields["assignee"]
        # Suggestions as one types (htmx fills the datalist from tasks:customer_options, which
        # asks visible_customers); a browser without scripts still submits a typed name or number.
        self.fields["customer"].widget.attrs.update(
            {
                "list": "task-customer-options",
                "autocomplete": "off",
                "hx-get": reverse("tasks:customer_options"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#task-customer-options",
                "hx-swap": "innerHTML",
            }
        )
