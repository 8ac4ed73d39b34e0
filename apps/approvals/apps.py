from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "apps.approvals"
    label = "approvals"
    verbose_name = "Four-eyes approvals"

    def ready(self) -> None:
        # The access grants of Django admin (apps.identity sits below this app in the layers, so
        # this app registers the four-eyes action and hands identity its proposer).
        from apps.approvals import access_grants  # noqa: F401
