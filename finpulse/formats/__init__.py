"""The bank's date and number formats per language (settings.FORMAT_MODULE_PATH).

Only what differs from Django's own locale files: a 24-hour clock everywhere, and short month
names in dates so that tables stay narrow. Money is formatted in apps/core/templatetags/finpulse.py
from the same DECIMAL_SEPARATOR / THOUSAND_SEPARATOR.
"""
