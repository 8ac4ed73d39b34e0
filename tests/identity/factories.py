from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from apps.identity import roles
from apps.identity.models import Branch, User


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"BR{n:03d}")
    name = factory.Sequence(lambda n: f"Branch {n}")
    city = "London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@bank.example")
    password = factory.django.Password("correct-horse-battery")
    is_staff = False  # as SSO sets it: administrators only (roles.is_staff_for)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
            if not self.is_staff and roles.is_staff_for(extracted, is_superuser=self.is_superuser):
                self.is_staff = True
                self.save(update_fields=["is_staff"])
