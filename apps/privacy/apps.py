from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"
    verbose_name = "Data-subject rights (GDPR)"

    def ready(self) -> None:
        from apps.privacy import four_eyes  # noqa: F401  (registers the erasure action)
