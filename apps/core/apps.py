from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core.catalogues import prune_interface_catalogues
        from apps.core.metrics import install_query_counters

        install_query_counters()
        prune_interface_catalogues()
