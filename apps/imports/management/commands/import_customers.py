"""Load customers from a CSV or JSON Lines file (columns: docs/imports.md)."""

from apps.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import customers (upsert by external id; see docs/imports.md for the columns)."
    entity = "customers"
