from pathlib import Path

from django.conf import settings

from finpulse.celery import broker_settings


def test_the_filesystem_broker_keeps_its_exchange_table_under_var():
    options = broker_settings("filesystem://")["broker_transport_options"]

    control = Path(options["control_folder"])
    assert control.is_relative_to(settings.VAR_DIR)
    assert control.is_dir()
