from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "apps.leads"
    label = "leads"
    verbose_name = "Leads"
