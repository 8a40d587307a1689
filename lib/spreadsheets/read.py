"""Reading spreadsheets people upload, safely: what a file is, whether to open it, its rows.

Untrusted files are judged by their bytes, not their names: an xlsx (zip with
``[Content_Types].xml``), an ods (zip with the OpenDocument mimetype), an xls (OLE container) or
text (CSV in UTF-8 with or without BOM, UTF-16, or GBK/GB18030). Oversized files, zip bombs,
macro-enabled and encrypted files are refused with a Chinese message before any parser runs;
a parser failure halfway through becomes a refusal too, never a 500.

Rows come as ``(row number as Excel shows it, values)``: python-calamine for xls, ods and the
xlsx files spreadsheet programs write (about ten times faster than openpyxl), openpyxl in
read-only mode for any other xlsx, the csv module over an incremental decoder for CSV. A value
keeps the type its reader reports (numbers as ``int``/``float``, text as ``str``; every CSV value
is text), which is how ``rounded_by_excel`` tells a number Excel cut short.

calamine holds a whole sheet in memory, so each format has a pre-scan that works out what it
would hold first: ``scan_xlsx`` (an xlsx it cannot vouch for goes to openpyxl), ``scan_ods`` and
``scan_xls`` (refused over ``FileLimits.max_in_memory_mb``: there is no streaming reader for them).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import io
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _

from lib.spreadsheets.base import FileLimits, ImportRefused, corrupt, unsafe
from lib.spreadsheets.scan_ods import scan_ods
from lib.spreadsheets.scan_xls import inspect_ole
from lib.spreadsheets.scan_xlsx import scan_xlsx

log = logging.getLogger(__name__)

SAMPLE_BYTES = 64 * 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xla", ".xlsb")
SUPPORTED_EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv", ".txt")


@dataclass
class FileInfo:
    format: str  # xlsx, xls, ods, csv
    encoding: str = ""  # csv only
    reader: str = ""  # xlsx only: "calamine", or "openpyxl" for a workbook calamine should not hold


def extension(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def _read_head(handle: IO[bytes], size: int = SAMPLE_BYTES) -> bytes:
    handle.seek(0)
    head = handle.read(size)
    handle.seek(0)
    return head


def inspect_file(handle: IO[bytes], name: str, size: int, lim: FileLimits) -> FileInfo:
    """Decide what the file is from its bytes, refusing what must not be parsed."""
    if size > lim.max_bytes:
        raise ImportRefused(
            _("文件过大（%(size).1f MB）。花名册文件不能超过 %(max).0f MB，请拆分后分批导入。")
            % {"size": size / 1024 / 1024, "max": lim.max_bytes / 1024 / 1024},
            code="file_too_large",
        )
    if size == 0:
        raise ImportRefused(_("文件是空的。"), code="empty_file")
    ext = extension(name)
    if ext in MACRO_EXTENSIONS:
        raise ImportRefused(
            _("不接受含宏或二进制格式的工作簿（%s）。请在 Excel 中另存为“Excel 工作簿(.xlsx)”后再导入。") % ext,
            code="macro_enabled",
        )
    head = _read_head(handle)
    if head.startswith(ZIP_SIGNATURE):
        return _inspect_zip(handle, size, lim)
    if head.startswith(OLE_SIGNATURE):
        return FileInfo(format=inspect_ole(handle, size, lim))
    if ext in (".xlsx", ".xls", ".ods"):
        stripped = head.lstrip()[:20].lower()
        if stripped.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
            raise ImportRefused(
                _(
                    "这个文件扩展名是 %s，内容却是网页(HTML/XML)格式，常见于从其他系统导出的表格。"
                    "请用 Excel 打开后另存为 .xlsx 再导入。"
                )
                % ext,
                code="not_a_spreadsheet",
            )
        raise ImportRefused(_("文件内容不是有效的 %s 表格，可能已损坏或并非表格文件。") % ext, code="not_a_spreadsheet")
    if ext not in SUPPORTED_EXTENSIONS and ext:
        raise ImportRefused(
            _("不支持的文件类型（%s）。请上传 .xlsx、.xls、.ods 或 .csv 文件。") % ext, code="unsupported_type"
        )
    return FileInfo(format="csv", encoding=detect_encoding(head))


def _inspect_zip(handle: IO[bytes], size: int, lim: FileLimits) -> FileInfo:
    try:
        archive = zipfile.ZipFile(handle)
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise corrupt() from None
    if len(entries) > lim.max_zip_entries:
        raise ImportRefused(_("文件结构异常（包含过多部件），已拒绝。"), code="zip_bomb")
    unpacked = sum(e.file_size for e in entries)
    packed = max(sum(e.compress_size for e in entries), 1)
    if unpacked > lim.max_uncompressed or (unpacked > lim.ratio_applies_above and unpacked / packed > lim.max_ratio):
        raise ImportRefused(
            _("文件解压后异常庞大（%(mb).0f MB，压缩比 %(ratio).0f 倍），疑似压缩炸弹，已拒绝。")
            % {"mb": unpacked / 1024 / 1024, "ratio": unpacked / packed},
            code="zip_bomb",
        )
    names = {e.filename for e in entries}
    if any(e.flag_bits & 0x1 for e in entries):
        raise ImportRefused(_("文件已加密，请取消密码后另存再导入。"), code="encrypted")
    lowered = {n.lower() for n in names}
    if "mimetype" in names and _read_member(archive, "mimetype", 100).strip() == ODS_MIMETYPE:
        if any(n.startswith(("basic/", "scripts/")) for n in lowered):
            raise ImportRefused(
                _("不接受含宏的表格文件。请删除宏后另存为 .ods 或 .xlsx 再导入。"), code="macro_enabled"
            )
        scan_ods(archive, lim)
        return FileInfo(format="ods")
    if "[Content_Types].xml" in names:
        if any(n.endswith("vbaproject.bin") for n in lowered):
            raise ImportRefused(
                _("文件含有宏(VBA)，已拒绝。请在 Excel 中另存为“Excel 工作簿(.xlsx)”后再导入。"), code="macro_enabled"
            )
        if b"macroEnabled" in _read_member(archive, "[Content_Types].xml", 200_000):
            raise ImportRefused(
                _("文件是启用宏的工作簿，已拒绝。请在 Excel 中另存为“Excel 工作簿(.xlsx)”后再导入。"),
                code="macro_enabled",
            )
        fits = scan_xlsx(archive, entries, lim)
        return FileInfo(format="xlsx", reader="calamine" if fits else "openpyxl")
    raise ImportRefused(_("文件不是 Excel 或 WPS 表格，无法导入。"), code="not_a_spreadsheet")


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The start of one part; a part that does not unpack is a corrupt file, not a 500 (a bad deflate
    stream raises ``zlib.error``, a bad checksum ``BadZipFile``: found by tests/security/test_roster_import_fuzz.py).
    """
    try:
        with archive.open(name) as member:
            return member.read(limit)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError):
        raise corrupt() from None


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (a superset of GBK and GB2312)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise ImportRefused(_("文件不是表格或文本文件（含有二进制内容），无法导入。"), code="not_a_spreadsheet")
    try:
        # Incremental: a character cut in two by the end of the sample is not a decoding error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise ImportRefused(
            _("无法识别 CSV 文件的编码。请另存为“CSV UTF-8(逗号分隔)”后再导入。"), code="unknown_encoding"
        ) from None


class Sheet:
    """One worksheet as a stream of ``(row number as in Excel, values)``."""

    name: str = ""
    estimated_rows: int = 0

    def rows(self, *, width: int | None = None) -> Iterator[tuple[int, Sequence[object]]]:
        raise NotImplementedError


class XlsxSheet(Sheet):
    def __init__(self, worksheet) -> None:
        self.ws = worksheet
        self.name = worksheet.title
        self.estimated_rows = worksheet.max_row or 0
        # The declared dimension may be wrong (some exporters write A1:A1); read what is there.
        worksheet.reset_dimensions()

    def rows(self, *, width: int | None = None) -> Iterator[tuple[int, Sequence[object]]]:
        # ``max_col`` bounds each row: a stray cell in column XFD must not make every row 16,384 wide.
        yield from enumerate(self.ws.iter_rows(max_col=width, values_only=True), start=1)


class CalamineSheet(Sheet):
    def __init__(self, sheet) -> None:
        self.sheet = sheet
        self.name = sheet.name
        self.estimated_rows = sheet.height
        start = sheet.start
        # calamine pads leading empty rows but starts each row at the first used column.
        self.column_offset = start[1] if start else 0

    def rows(self, *, width: int | None = None) -> Iterator[tuple[int, Sequence[object]]]:
        pad = (None,) * self.column_offset
        for number, values in enumerate(self.sheet.iter_rows(), start=1):
            row = pad + tuple(values) if pad else values
            yield number, row[:width] if width else row


class CsvSheet(Sheet):
    def __init__(self, handle: IO[bytes], encoding: str, size: int) -> None:
        self.handle = handle
        self.encoding = encoding
        self.name = "CSV"
        self.size = size
        self.estimated_rows = 0
        head = _read_head(handle, 8192)
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
        try:
            self.dialect: Any = csv.Sniffer().sniff(text, delimiters=",\t;")
        except csv.Error:
            self.dialect = csv.excel
        lines = max(text.count("\n"), 1)
        self.estimated_rows = max(int(size / max(len(head), 1) * lines), lines)

    def rows(self, *, width: int | None = None) -> Iterator[tuple[int, Sequence[object]]]:
        self.handle.seek(0)
        text = io.TextIOWrapper(self.handle, encoding=self.encoding, newline="")  # type: ignore[arg-type]
        try:
            for number, values in enumerate(csv.reader(text, self.dialect), start=1):
                yield number, values[:width] if width else values
        except UnicodeDecodeError:
            raise ImportRefused(
                _("CSV 文件中有无法按 %s 编码读取的内容，请另存为“CSV UTF-8”后再导入。") % self.encoding,
                code="unknown_encoding",
            ) from None
        except csv.Error as exc:
            raise ImportRefused(_("CSV 文件格式有误：%s") % exc, code="corrupt_file") from None
        finally:
            text.detach()  # the caller owns the file


class SpreadsheetFile:
    """The visible worksheets of a file, in order, and the means to close it."""

    def __init__(self, handle: IO[bytes], info: FileInfo, size: int, lim: FileLimits) -> None:
        self.info = info
        self.lim = lim
        self._close: Callable[[], None] = lambda: None
        with _refusing_unreadable():
            if info.format == "xlsx" and info.reader != "calamine":
                import openpyxl

                book = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
                self._close = book.close
                self.sheets: list[Sheet] = [XlsxSheet(ws) for ws in book.worksheets if ws.sheet_state == "visible"]
            elif info.format in ("xlsx", "xls", "ods"):
                from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

                handle.seek(0)
                book = CalamineWorkbook.from_filelike(handle)
                self._close = book.close
                self.sheets = [
                    CalamineSheet(book.get_sheet_by_index(i))
                    for i, meta in enumerate(book.sheets_metadata)
                    if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
                ]
            else:
                self.sheets = [CsvSheet(handle, info.encoding, size)]

    def close(self) -> None:
        # Best effort: closing a file that could not be read must not hide why it could not.
        with contextlib.suppress(Exception):
            self._close()

    def first_sheet_with(self, find: Callable[[Iterator[tuple[int, Sequence[object]]]], Any], *, retry_codes=()):
        """The first visible sheet for which ``find(rows)`` succeeds, and what it found.

        A refusal whose code is in ``retry_codes`` moves on to the next sheet (a template's
        instructions sheet has no header); the first such refusal is raised if no sheet fits.
        """
        first_error: ImportRefused | None = None
        for sheet in self.sheets:
            try:
                return sheet, find(guarded(sheet.rows(width=self.lim.max_columns)))
            except ImportRefused as exc:
                if exc.code not in retry_codes:
                    raise
                first_error = first_error or exc
        if first_error is None:
            raise ImportRefused(_("文件中没有可读取的工作表。"), code="no_header")
        raise first_error


def parser_failure(exc: BaseException) -> bool:
    """An exception of a parser reading a bad file (not an interrupt or an exit).

    python-calamine reports a panic of its Rust code as ``pyo3_runtime.PanicException``, which derives
    from ``BaseException``: ``except Exception`` let a corrupt .xls/.ods through as a 500 (found by
    tests/security/test_roster_import_fuzz.py).
    """
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _unreadable(exc: BaseException) -> ImportRefused:
    name = type(exc).__name__
    if name == "PasswordError":
        return ImportRefused(_("文件设置了密码（已加密），无法读取。请取消密码后另存再导入。"), code="encrypted")
    if "Forbidden" in name or "DTD" in name or "Entities" in name:
        return unsafe()
    log.info("unreadable roster file: %s: %s", name, exc)
    return ImportRefused(_("文件已损坏或不是有效的表格文件，无法读取。"), code="corrupt_file")


@contextlib.contextmanager
def _refusing_unreadable() -> Iterator[None]:
    """Turn a parser's failure inside the block into a refusal with a message (a refusal passes as it is)."""
    try:
        yield
    except ImportRefused:
        raise
    except BaseException as exc:
        if not parser_failure(exc):
            raise
        raise _unreadable(exc) from None


def guarded(rows: Iterator[tuple[int, Sequence[object]]]) -> Iterator[tuple[int, Sequence[object]]]:
    """Turn any parser failure in the middle of a file into a refusal with a message."""
    with _refusing_unreadable():
        yield from rows


# --- Cell values -------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as text: integral floats lose their ``.0`` (a mobile typed as a number), spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        # A date cell: openpyxl reads it as midnight, calamine as a date; both are the date Excel shows.
        return value.date().isoformat()
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return _trimmed(str(value))


def _trimmed(text: str) -> str:
    # Cells pasted from Word or a web page keep their full-width and non-breaking spaces
    # (townships.validators.clean_text trims typed values the same way).
    return text.replace("\u3000", " ").replace("\xa0", " ").strip()


def is_blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip(" \u3000\xa0\t\r\n")) for v in values)


# --- Numbers Excel cut short -------------------------------------------------------------------

# Excel keeps 15 significant digits of a number: a longer one typed into a "General" cell (an ID
# number) is shown as 4.40703E+17 and saved with its 16th digit on as zeros.
EXCEL_DIGITS = 15
_SCIENTIFIC = re.compile(r"^[0-9](?:\.[0-9]+)?E\+?([0-9]{1,3})$", re.IGNORECASE)


def rounded_by_excel(value: object, *, typed: bool = True) -> bool:
    """Whether a cell holds a number of more digits than Excel keeps, already cut short.

    ``typed``: the reader reports numbers as numbers (xlsx, xls, ods). A float that large has lost
    digits whatever they were; an int only if its digits past the 15th are zeros (a program that
    wrote every digit lost none). In a CSV every value is text, and a number Excel cut short is
    written as it shows it: 4.40703E+17, or 440703197501010000 with a "0" number format. Text in
    scientific notation is never a number someone typed digit by digit, whatever the format.
    """
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, float):
        return abs(value) >= 10**EXCEL_DIGITS
    if isinstance(value, int):
        return _zeros_past_excel(str(abs(value)))
    text = _trimmed(str(value))
    scientific = _SCIENTIFIC.match(text)
    if scientific:
        return int(scientific.group(1)) >= EXCEL_DIGITS
    return not typed and text.isdigit() and _zeros_past_excel(text)


def _zeros_past_excel(digits: str) -> bool:
    return len(digits) > EXCEL_DIGITS and not digits[EXCEL_DIGITS:].strip("0")
