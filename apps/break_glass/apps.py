from django.apps import AppConfig


class BreakGlassConfig(AppConfig):
    name = "apps.break_glass"
    label = "break_glass"
    verbose_name = "Break-glass access to customers"

    def ready(self) -> None:
        from apps.break_glass import services  # noqa: F401  (registers the four-eyes action)
