"""Attachments in S3 (a real moto server process): stored in the bucket, served only through
the permission-checked, audited view, and never on the web container's disk."""

from __future__ import annotations

import hashlib

from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.identity import roles
from apps.interactions.models import Attachment
from tests.customers.factories import CustomerFactory
from tests.identity.factories import BranchFactory, UserFactory
from tests.interactions.factories import PDF_BYTES, upload
from tests.s3_server import s3_client


def _log_with_attachment(client, customer):
    form = {
        "channel": "meeting",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": "Signed mandate",
        "body": "",
        "attachments": upload("mandate.pdf", PDF_BYTES),
    }
    response = client.post(reverse("interactions:create", args=[customer.pk]), form)
    assert response.status_code == 302, response.content[:500]
    return Attachment.objects.get(interaction__customer=customer)


def test_an_uploaded_attachment_is_stored_in_the_bucket_not_on_disk(client, manager, s3_storage, s3_server, media_root):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)

    attachment = _log_with_attachment(client, customer)

    stored = s3_client(s3_server).get_object(Bucket=s3_storage, Key=attachment.storage_path)["Body"].read()
    assert stored == PDF_BYTES
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_the_attachment_downloads_from_the_bucket_through_the_checked_view_and_is_audited(client, manager, s3_storage):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)
    attachment = _log_with_attachment(client, customer)

    response = client.get(reverse("interactions:attachment_download", args=[attachment.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="attachment.downloaded", object_id=str(attachment.pk)).count() == 1


def test_another_books_manager_gets_404_for_an_attachment_in_the_bucket(client, manager, other_manager, s3_storage):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)
    attachment = _log_with_attachment(client, customer)
    url = reverse("interactions:attachment_download", args=[attachment.pk])
    elsewhere = UserFactory(roles=[roles.RELATIONSHIP_MANAGER], branch=BranchFactory(), username="manager.far")

    for outsider in (other_manager, elsewhere):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_an_attachment_missing_from_the_bucket_is_a_404_not_a_500(client, manager, s3_storage, s3_server):
    customer = CustomerFactory(assigned_to=manager)
    client.force_login(manager)
    attachment = _log_with_attachment(client, customer)
    s3_client(s3_server).delete_object(Bucket=s3_storage, Key=attachment.storage_path)

    assert client.get(reverse("interactions:attachment_download", args=[attachment.pk])).status_code == 404
