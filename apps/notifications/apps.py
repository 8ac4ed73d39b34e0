from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from apps.core.metrics import SOURCES
        from apps.notifications.metrics import outbox_gauges

        SOURCES["outbox"] = outbox_gauges
