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


class BookDate(models.Model):
    """A date the dashboard looks for, filed under the customer's primary manager (decision 164).

    Kept by triggers in PostgreSQL (migration workspace 0002), so every write that changes one
    keeps it, whoever makes it (services, imports, admin, the bulk fixture): one row per customer
    (`k`: the KYC review date and status), per identity document (`d`: its expiry), per party of a
    holding with a maturity date (`m`) and per interaction (`i`: its time in `moment`, migration
    workspace 0003, decision 176). A manager's documents expiring this month are then one range
    of `bookdate_manager_idx` instead of one probe per customer of the book. The rows only find
    candidates: the dashboard reads the documents, holdings, customers and interactions they point
    at and applies the sections' rules, the confidentiality rule and the visibility rule to those,
    never to these copies; customers a manager sees without being their primary manager are read
    the old way.
    """

    class Kind(models.TextChoices):
        CUSTOMER = "k", "Customer (KYC review)"
        DOCUMENT = "d", "Identity document expiry"
        MATURITY = "m", "Holding maturity (one row per party)"
        INTERACTION = "i", "Interaction (its time in `moment`)"

    manager_id = models.BigIntegerField(null=True)  # the customer's primary_manager_id
    customer_id = models.BigIntegerField()
    kind = models.CharField(max_length=1, choices=Kind.choices)
    day = models.DateField(null=True)
    ref_id = models.BigIntegerField()  # the customer, document or holding
    state = models.CharField(max_length=12, blank=True, default="")  # a customer's kyc_status
    moment = models.DateTimeField(null=True)  # an interaction's occurred_at (decision 176)

    class Meta:
        indexes = [
            models.Index(
                fields=["manager_id", "kind", "day", "ref_id"],
                include=["customer_id", "state"],
                name="bookdate_manager_idx",
            ),
            models.Index(fields=["customer_id", "kind"], name="bookdate_customer_idx"),
            models.Index(fields=["ref_id", "kind"], name="bookdate_ref_idx"),
            # A manager's customers' interactions, newest first (decision 176).
            models.Index(
                fields=["manager_id", "moment", "ref_id"], condition=Q(kind="i"), name="bookdate_interaction_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref_id}"
