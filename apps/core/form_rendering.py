"""One markup for every form field: `{{ form }}` and `{{ field.as_field_group }}` use components/.

`components/field.html` is the label, widget, help and errors of one field (ids that Django's
aria-describedby points at); `components/form.html` lists a form's fields through it. Pages that
place fields one by one include the same field template, so every form reads alike.
"""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FinPulseFormRenderer(TemplatesSetting):
    """The project's templates first (TEMPLATES), then Django's own widget templates (django.forms)."""

    form_template_name = "components/form.html"
    field_template_name = "components/field.html"
