from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from apps.alerts.metrics import beat_lock_gauges
        from apps.core.metrics import SOURCES

        SOURCES["beat"] = beat_lock_gauges
