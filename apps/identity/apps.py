from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_last_app(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate fires once per app, in INSTALLED_APPS order, and each app's permissions are
    # created on its own turn: syncing on identity's turn would miss the apps listed after it
    # (customers, tasks, ...). Sync once, on the last app's turn, when every permission exists.
    # (A flush in TransactionTestCase emits the same signals, so roles survive it too.)
    # Only apps with a models module get the signal, so "last" means the last of those.
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender is last:
        from apps.identity.roles import sync_role_permissions

        sync_role_permissions(**kwargs)


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"
    verbose_name = "Identity and access"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_last_app, dispatch_uid="finpulse_sync_roles")
        from apps.identity.user_facts import connect_signals

        connect_signals()
