"""Interactions are logged through the real service (validation, files, audit)."""

from __future__ import annotations

import io
import zipfile

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.interactions.models import Interaction
from apps.interactions.services import log_interaction
from tests.customers.factories import CustomerFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML_BYTES = b"<!DOCTYPE html><html><head><script>alert('owned')</script></head><body>Statement</body></html>\n"
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 200
PE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"\x80\x00\x00\x00" + b"\x00" * 64
)


def office_bytes(main_part: str = "word/document.xml", *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main_part, '<?xml version="1.0"?><document/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(name: str = "statement.pdf", data: bytes = PDF_BYTES, content_type: str = "application/pdf"):
    """A file as the browser sends it; the declared content type is deliberately not trusted."""
    return SimpleUploadedFile(name, data, content_type=content_type)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    author = factory.LazyAttribute(lambda i: i.customer.primary_manager)
    channel = Interaction.Channel.PHONE
    subject = factory.Sequence(lambda n: f"Call about renewal {n}")
    body = "Discussed the renewal options."
    occurred_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class: type[Interaction], *args: object, **kwargs: object) -> Interaction:
        author = kwargs.pop("author")
        return log_interaction(actor=author, **kwargs)
