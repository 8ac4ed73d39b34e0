from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # Registers the OpenAPI extension for API-key authentication with drf-spectacular.
        from apps.api import schema  # noqa: F401
