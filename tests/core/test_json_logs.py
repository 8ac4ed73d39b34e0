"""FINPULSE_LOG_FORMAT=json: one JSON object per line with the request id and the user id, no PII."""

from __future__ import annotations

import copy
import json
import logging.config

from django.core.files.storage import default_storage
from django.urls import reverse

from tests.customers.factories import CustomerFactory
from tests.interactions.factories import InteractionFactory, upload


def test_json_log_lines_carry_the_request_id_and_user_id_and_no_personal_data(
    client, manager, settings, tmp_path, capsys
):
    settings.MEDIA_ROOT = tmp_path / "media"
    customer = CustomerFactory(assigned_to=manager, first_name="Philippa", last_name="Quarrington")
    attachment = InteractionFactory(customer=customer, attachments=[upload()]).attachments.get()
    default_storage.delete(attachment.storage_path)  # the download will log that the file is missing
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(formatter="json", stream="ext://sys.stdout")
    logging.config.dictConfig(config)
    client.force_login(manager)
    try:
        response = client.get(
            reverse("interactions:attachment_download", args=[attachment.pk]), HTTP_X_REQUEST_ID="req-0123456789"
        )
    finally:
        logging.config.dictConfig(settings.LOGGING)

    assert response.status_code == 404
    output = capsys.readouterr().out
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    record = next(r for r in records if "has no file" in r["message"])
    assert record["level"] == "ERROR"
    assert record["logger"] == "apps.interactions.views"
    assert record["request_id"] == "req-0123456789"
    assert record["user_id"] == manager.pk
    assert "time" in record
    assert "Philippa" not in output and "Quarrington" not in output and manager.email not in output
