"""Load the bank's FX rates from a CSV or JSON Lines file (columns: docs/imports.md)."""

from apps.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import FX rates (rate_date, base_currency, quote_currency, rate; see docs/imports.md)."
    entity = "fx_rates"
