from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class SavedView(models.Model):
    """A manager's named customer-list search (filters and sort), private or shared with a branch.

    `params` are the list form's cleaned parameters (never a page cursor, never a personal-data
    search: apps.workspace.services.save_view refuses one). A shared view is seen by the
    managers of `branch`; each of them may pin it on their dashboard.
    """

    class Sharing(models.TextChoices):
        PRIVATE = "private", "Only me"
        BRANCH = "branch", "My branch"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    params = models.JSONField(default=dict)
    sharing = models.CharField(max_length=8, choices=Sharing.choices, default=Sharing.PRIVATE)
    branch = models.ForeignKey(
        "identity.Branch", null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    pinned_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="pinned_views")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner"),
            models.CheckConstraint(
                condition=Q(sharing="private") | Q(branch__isnull=False), name="saved_view_shared_with_a_branch"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="saved_view_has_name"),
        ]
        indexes = [models.Index(fields=["branch", "sharing"], name="saved_view_branch_idx")]

    def __str__(self) -> str:
        return self.name
