"""Attachments: checked by content, stored under their SHA-256, served only through the access module."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AccessLog
from lib import uploads as files
from mediation.models import Attachment
from referrals import workflow
from tests.conftest import login
from tests.files import docx_bytes, exe_upload, legacy_office_upload, pdf_upload, png_bytes, png_upload
from tests.mediation.conftest import post, stored_files

pytestmark = pytest.mark.django_db


def upload(user, referral, file, kind: str = "evidence"):
    return post(user, referral.pk, "attachments/", {"kind": kind, "file": file}, multipart=True)


def named(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (exe_upload, "不支持的文件类型"),
        (lambda: named("协议书.docm", docx_bytes(macro=True)), "含宏的 Office 文档不予接收"),
        (lambda: named("scan.pdf", b"this is not a scan, only some text"), "不支持的文件类型"),
        (lambda: named("scan.jpg", b"GIF89a\x01\x00\x01\x00"), "不支持的文件类型"),
        (lambda: named("a.docx", zip_of({"notes.txt": b"hello"})), "不支持的文件类型"),
        (lambda: named("a.docx", b"PK\x03\x04 broken archive"), "文件已损坏"),
        (lambda: named("empty.pdf", b""), "空"),
        (lambda: legacy_office_upload("协议书.doc", macros=True), "含宏的 Office 文档不予接收"),
        (lambda: named("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100), "无法识别的 Office 文档"),
    ],
    ids=[
        "renamed-executable",
        "macro-docx",
        "text-as-pdf",
        "gif-as-jpg",
        "plain-zip",
        "broken-zip",
        "empty",
        "macro-doc",
        "unreadable-ole",
    ],
)
def test_it_refuses_a_file_that_is_not_an_accepted_document_and_stores_nothing(people, story, settings, make, message):
    referral = story.mediating()
    response = upload(people.mediator, referral, make())
    assert response.status_code == 400
    assert message in response.json()["errors"]["file"][0]
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_it_refuses_an_oversized_file(people, story, settings, monkeypatch):
    monkeypatch.setattr(files, "MAX_BYTES", 1024 * 1024)
    referral = story.mediating()
    big = named("big.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024))
    response = upload(people.mediator, referral, big)
    assert response.status_code == 400
    assert "文件过大" in response.json()["errors"]["file"][0]
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []
    assert upload(people.mediator, referral, named("ok.pdf", b"%PDF-1.4\n" + b"0" * 1000)).status_code == 201


def test_it_refuses_an_archive_that_unpacks_to_a_bomb(people, story, settings, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNCOMPRESSED", 100_000)
    referral = story.mediating()
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\x00" * 200_000})
    response = upload(people.mediator, referral, named("bomb.docx", bomb))
    assert response.status_code == 400
    assert "解压后过大" in response.json()["errors"]["file"][0]
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (pdf_upload().read(), "application/pdf"),
        (png_bytes(), "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 50, "image/jpeg"),
        (docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (
            zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (legacy_office_upload(macros=False).read(), "application/vnd.ms-office"),
    ],
    ids=["pdf", "png", "jpeg", "docx", "xlsx", "legacy-office"],
)
def test_it_accepts_each_document_type_and_records_the_type_read_from_the_bytes(people, story, content, content_type):
    referral = story.mediating()
    # Named and declared as something else: the content decides.
    response = upload(people.mediator, referral, named("材料.bin", content, "text/plain"))
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type
    assert response.json()["original_name"] == "材料.bin"


def test_the_stored_sha256_matches_the_bytes_uploaded_stored_and_served(people, story, settings):
    referral = story.mediating()
    content = png_bytes()
    response = upload(people.officer, referral, png_upload("同意书.png"), kind="consent")
    assert response.status_code == 201, response.json()
    digest = hashlib.sha256(content).hexdigest()
    body = response.json()
    assert (body["sha256"], body["size"], body["kind_label"]) == (digest, len(content), "当事人同意调解材料")
    attachment = Attachment.objects.get()
    assert stored_files(settings) == [f"attachments/{referral.pk}/{digest[:2]}/{digest}"]
    with attachment.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == digest
    download = login(people.mediator).get(body["url"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == digest
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]


def test_a_file_of_another_referral_is_not_found_through_this_referral(people, story):
    mine, other = story.mediating(), story.mediating()
    theirs = upload(people.mediator, other, pdf_upload()).json()["id"]
    client = login(people.officer)  # the officer may see both referrals
    assert client.get(f"/referrals/{mine.pk}/attachments/{theirs}/").status_code == 404
    assert client.get(f"/referrals/{other.pk}/attachments/{theirs}/").status_code == 200


def test_a_past_handler_may_see_the_list_but_not_download(people, story):
    referral = story.submitted()
    aid = upload(people.officer, referral, pdf_upload(), kind="identity_proof").json()["id"]
    workflow.decline_referral(referral, by=people.mediator, reason="out_of_scope")
    workflow.redirect_referral(referral, by=people.officer, target=people.taicheng)
    client = login(people.mediator)
    assert client.get(f"/referrals/{referral.pk}/").status_code == 200
    refused = client.get(f"/referrals/{referral.pk}/attachments/{aid}/")
    assert refused.status_code == 403
    assert "仅移交单位和当前办理单位可以下载" in refused.content.decode()
    assert login(people.other_mediator).get(f"/referrals/{referral.pk}/attachments/{aid}/").status_code == 200


def test_an_unknown_kind_is_refused(people, story, settings):
    referral = story.mediating()
    response = upload(people.mediator, referral, pdf_upload(), kind="selfie")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    assert stored_files(settings) == []


def test_nothing_is_attached_to_a_closed_referral(people, story):
    referral = story.closed()
    assert upload(people.mediator, referral, pdf_upload()).status_code == 409
    assert Attachment.objects.filter(referral=referral).count() == 1  # the identity proof of story.closed


def test_a_download_is_entered_in_the_read_audit_and_a_refused_one_is_not(people, story):
    referral = story.mediating()
    body = upload(people.mediator, referral, pdf_upload(), kind="identity_proof").json()
    assert login(people.supervisor).get(body["url"]).status_code == 403
    assert not AccessLog.objects.exists()
    login(people.officer).get(body["url"], REMOTE_ADDR="10.0.0.8")
    entry = AccessLog.objects.get()
    assert (entry.username, entry.action, entry.referral_number) == ("officer", "download_attachment", referral.number)
    assert entry.detail == {"attachment": body["id"], "kind": "identity_proof", "sha256": body["sha256"]}
    assert entry.ip_address == "10.0.0.8"
