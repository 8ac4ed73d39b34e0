"""Attachment content checks: the bytes decide, not the name or the browser's content type."""

import pytest

from apps.core.errors import DomainError
from apps.interactions.files import DOCX, XLSX, check_upload, check_uploads, clean_name
from tests.interactions.factories import (
    ELF_BYTES,
    HTML_BYTES,
    PDF_BYTES,
    PE_BYTES,
    PNG_BYTES,
    office_bytes,
    upload,
)

LIMIT = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "stored_type"),
    [
        ("statement.pdf", PDF_BYTES, "application/pdf"),
        ("signature.PNG", PNG_BYTES, "image/png"),
        ("notes.txt", "Customer prefers calls after 5pm. Café meeting.\n".encode(), "text/plain"),
        ("figures.csv", b"month,amount\nJan,100\nFeb,120\n", "text/csv"),
        ("proposal.docx", office_bytes("word/document.xml"), DOCX),
        ("budget.xlsx", office_bytes("xl/workbook.xml"), XLSX),
    ],
)
def test_files_of_an_allowed_type_pass_with_the_type_read_from_their_content(name, data, stored_type):
    checked = check_upload(upload(name, data, "application/octet-stream"), max_bytes=LIMIT)

    assert checked.content_type == stored_type
    assert checked.size == len(data)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("report.pdf", HTML_BYTES, "text/html"),
        ("photo.png", ELF_BYTES, "application/x-executable"),
        ("photo.png", PE_BYTES, "application/x-dosexec"),
        ("scan.jpg", PDF_BYTES, "application/pdf"),
        ("notes.txt", HTML_BYTES, "text/html"),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(name, data, says):
    with pytest.raises(DomainError) as refused:
        check_upload(upload(name, data, "application/pdf"), max_bytes=LIMIT)

    assert refused.value.field == "attachments"
    assert name in refused.value.message
    assert says in refused.value.message


def test_a_zip_archive_named_as_a_word_document_is_refused():
    with pytest.raises(DomainError, match="not an office document"):
        check_upload(upload("contract.docx", office_bytes("payload/evil.xml")), max_bytes=LIMIT)


def test_an_office_document_with_macros_is_refused():
    data = office_bytes("word/document.xml", extra={"word/vbaProject.bin": b"\x00macro"})

    with pytest.raises(DomainError, match="macros"):
        check_upload(upload("contract.docx", data), max_bytes=LIMIT)


def test_a_file_over_the_size_limit_is_refused_with_the_limit_in_the_message():
    with pytest.raises(DomainError, match="at most 1 KB"):
        check_upload(upload("big.pdf", PDF_BYTES + b"0" * 2048), max_bytes=1024)


def test_an_executable_type_is_refused_whatever_its_name():
    with pytest.raises(DomainError, match="not a type we keep"):
        check_upload(upload("setup.exe", PE_BYTES), max_bytes=LIMIT)


def test_an_empty_file_is_refused():
    with pytest.raises(DomainError, match="empty"):
        check_upload(upload("blank.pdf", b""), max_bytes=LIMIT)


def test_more_files_than_allowed_are_refused(settings):
    with pytest.raises(DomainError, match="at most 5"):
        check_uploads([upload(f"s{n}.pdf") for n in range(6)])


def test_uploaded_names_lose_folders_and_control_characters():
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert clean_name('bad"\r\nname.pdf') == "badname.pdf"
    assert clean_name("") == "attachment"
