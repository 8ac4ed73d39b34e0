from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.identity import roles


class Branch(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    city = models.CharField(max_length=80, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class User(AbstractUser):
    """A bank employee. SSO users are matched on (issuer, subject), never on email."""

    oidc_issuer = models.CharField(max_length=255, blank=True, default="")
    oidc_subject = models.CharField(max_length=255, blank=True, default="")
    branch = models.ForeignKey(Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    phone = models.CharField(max_length=32, blank=True, help_text="Work phone for SMS alerts.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~models.Q(oidc_subject=""),
                name="user_unique_oidc_identity",
            )
        ]

    @cached_property
    def role_names(self) -> frozenset[str]:
        from apps.identity.user_facts import user_facts

        return frozenset(user_facts(self)["roles"])

    @cached_property
    def _perm_cache(self) -> set[str]:
        """Django's ModelBackend keeps a user's permissions under this name for the object's
        life; this fills it from the user's remembered facts (apps/identity/user_facts.py)."""
        from apps.identity.user_facts import user_facts

        return set(user_facts(self)["permissions"])

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_relationship_manager(self) -> bool:
        return self.has_role(roles.RELATIONSHIP_MANAGER)

    @property
    def is_branch_manager(self) -> bool:
        return self.has_role(roles.BRANCH_MANAGER)

    @property
    def is_compliance_officer(self) -> bool:
        return self.has_role(roles.COMPLIANCE_OFFICER)

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.has_role(roles.ADMINISTRATOR)
