"""What an uploaded file really is, read from its bytes (never from its name)."""

from __future__ import annotations

import io
import zipfile

from django.utils.translation import gettext as _

MAX_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED = 200 * 1024 * 1024

PDF = b"%PDF-"
JPEG = b"\xff\xd8\xff"
PNG = b"\x89PNG\r\n\x1a\n"
ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

OOXML_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


class UploadRejected(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _read(upload) -> bytes:
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise UploadRejected(_("文件过大：单个文件不能超过%d MB。") % (MAX_BYTES // (1024 * 1024)))
    if not data:
        raise UploadRejected(_("文件是空的。"))
    return data


def _ooxml_type(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        total = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise UploadRejected(_("文件已损坏，无法识别。")) from None
    if total > MAX_UNCOMPRESSED:
        raise UploadRejected(_("文件解压后过大，疑似异常文件，已拒绝。"))
    if "[Content_Types].xml" not in names:
        raise UploadRejected(_("不支持的文件类型：只接受 PDF、JPEG、PNG 和 Office 文档。"))
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise UploadRejected(_("含宏的 Office 文档不予接收，请另存为不含宏的格式。"))
    for prefix, content_type in OOXML_TYPES.items():
        if any(n.startswith(prefix) for n in names):
            return content_type
    raise UploadRejected(_("不支持的文件类型：只接受 PDF、JPEG、PNG 和 Office 文档。"))


def _refuse_legacy_macros(data: bytes) -> None:
    """Legacy .doc/.xls/.ppt (OLE) files may carry VBA or Excel 4 (XLM) macros, which run when a
    colleague opens the scan's "original": oletools, the maintained analyser, looks for both."""
    import logging

    from oletools.olevba import VBA_Parser

    # olevba logs every file it opens at INFO; an upload is not worth a log line.
    logging.getLogger("olevba").setLevel(logging.WARNING)
    try:
        parser = VBA_Parser("upload", data=data)
        try:
            found = parser.detect_vba_macros() or parser.detect_xlm_macros()
        finally:
            parser.close()
    except Exception:  # not an Office file oletools can read: nobody can vouch for it
        raise UploadRejected(_("无法识别的 Office 文档，请另存为 PDF 后上传。")) from None
    if found:
        raise UploadRejected(_("含宏的 Office 文档不予接收，请另存为不含宏的格式（如 PDF 或 .docx）。"))


def sniff(upload) -> tuple[bytes, str]:
    """The file's bytes and its real content type; ``UploadRejected`` with a Chinese message otherwise."""
    data = _read(upload)
    if data.startswith(PDF):
        return data, "application/pdf"
    if data.startswith(JPEG):
        return data, "image/jpeg"
    if data.startswith(PNG):
        return data, "image/png"
    if data.startswith(ZIP):
        return data, _ooxml_type(data)
    if data.startswith(OLE):
        _refuse_legacy_macros(data)
        return data, "application/vnd.ms-office"
    raise UploadRejected(_("不支持的文件类型：只接受 PDF、JPEG、PNG 和 Office 文档。"))


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with a line of ASCII text: a stand-in scan for demo data and tests."""
    stream = b"BT /F1 18 Tf 72 720 Td (" + text.encode("ascii", "replace") + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def download(stored, *, name: str, content_type: str):
    """A stored upload sent back as a download: under its original name, with the type judged at upload
    (never sniffed again by the browser) and kept out of every cache (it may name a party)."""
    from django.http import FileResponse

    response = FileResponse(stored.open("rb"), as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
