from __future__ import annotations

from django import forms

from apps.recommendations.models import RecommendationFeedback
from apps.recommendations.services import REASON_MAX


class FeedbackForm(forms.Form):
    product = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=RecommendationFeedback.Decision.choices)
    reason = forms.CharField(max_length=REASON_MAX, required=False, strip=True)
