from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "apps.workspace"
    label = "workspace"
    verbose_name = "Manager workspace"

    def ready(self) -> None:
        from apps.workspace import portfolio_four_eyes  # noqa: F401  (registers the portfolio-transfer action)
