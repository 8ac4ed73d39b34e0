"""Load products from a CSV or JSON Lines file (columns: docs/imports.md)."""

from apps.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import products (upsert by product code; see docs/imports.md for the columns)."
    entity = "products"
