from __future__ import annotations

from django import forms

from apps.notifications.models import EMPLOYEE_KINDS, Channel


class PreferencesForm(forms.Form):
    """One checkbox per (kind, channel), named "<kind>:<channel>"; unticked means off."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for kind in EMPLOYEE_KINDS:
            for channel in Channel:
                self.fields[f"{kind.value}:{channel.value}"] = forms.BooleanField(required=False)

    def chosen(self) -> dict[str, set[str]]:
        chosen: dict[str, set[str]] = {kind.value: set() for kind in EMPLOYEE_KINDS}
        for name, value in self.cleaned_data.items():
            kind, _, channel = name.partition(":")
            if value:
                chosen[kind].add(channel)
        return chosen
