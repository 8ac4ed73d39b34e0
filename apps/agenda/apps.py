from django.apps import AppConfig


class AgendaConfig(AppConfig):
    # Not "calendar": that would shadow the standard library's module (docs/decisions.md 84).
    name = "apps.agenda"
    label = "agenda"
    verbose_name = "Calendar"
