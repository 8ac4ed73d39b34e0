from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # The OpenAPI extension for API-key authentication (drf-spectacular), and the four-eyes
        # actions of API key issuance and scope changes.
        from apps.api import four_eyes, schema  # noqa: F401
