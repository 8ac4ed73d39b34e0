from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "apps.products"
    label = "products"
    verbose_name = "Product catalog"

    def ready(self) -> None:
        from apps.products import four_eyes  # noqa: F401  (registers the rate-change action)
