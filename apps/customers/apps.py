from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "apps.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from apps.customers import four_eyes  # noqa: F401  (registers reassignment and PII-export actions)
        from apps.customers.book_facts import connect_signals

        connect_signals()
