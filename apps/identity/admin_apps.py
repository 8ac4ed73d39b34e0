"""The admin app config: `admin.site` becomes FinPulse's site (TOTP-aware), so every
`@admin.register` in the project lands on it without knowing."""

from django.contrib.admin.apps import AdminConfig


class FinPulseAdminConfig(AdminConfig):
    default_site = "apps.identity.admin_site.FinPulseAdminSite"
