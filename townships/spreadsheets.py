"""Reading spreadsheets people upload, safely: what a file is, whether to open it, its rows.

Untrusted files are judged by their bytes, not their names: an xlsx (zip with
``[Content_Types].xml``), an ods (zip with the OpenDocument mimetype), an xls (OLE container) or
text (CSV in UTF-8 with or without BOM, UTF-16, or GBK/GB18030). Oversized files, zip bombs,
macro-enabled and encrypted files are refused with a Chinese message before any parser runs;
a parser failure halfway through becomes a refusal too, never a 500.

Rows come as ``(row number as Excel shows it, values)``: python-calamine for xls, ods and the
xlsx files spreadsheet programs write (about ten times faster than openpyxl, which alone used up
the import's time budget, DESIGN.md §8), openpyxl in read-only mode for any other xlsx, the csv
module over an incremental decoder for CSV. The roster importer (``townships/importers.py``) is the
first user.

calamine holds a whole sheet in memory, as a dense grid from A1 to the last used cell, with every
shared string copied into each cell that uses it: one stray cell in XFD1048576, or a megabyte string
used by 100,000 cells, asks it for terabytes (and a failed allocation aborts the process; no
exception to catch). So before calamine opens an xlsx, ``_scan_xlsx`` reads every part once and
works out what calamine would hold; a workbook whose cells it cannot vouch for, or that would not fit
in ``FileLimits.max_in_memory_mb``, is read by openpyxl, whose memory does not grow with the sheet.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime
import functools
import io
import itertools
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _

from townships.validators import clean_text

log = logging.getLogger(__name__)

SAMPLE_BYTES = 64 * 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xla", ".xlsb")
SUPPORTED_EXTENSIONS = (".xlsx", ".xls", ".ods", ".csv", ".txt")


@dataclass(frozen=True)
class FileLimits:
    """What an uploaded spreadsheet may be before it is parsed."""

    max_bytes: int = 10 * 1024 * 1024
    # An xlsx is a zip: what it unpacks to, and how much more than it weighs. A genuine 20,000-row
    # roster unpacks to about 15 MB at a ratio near 10; a zip bomb to gigabytes at ratios of 1,000.
    max_uncompressed: int = 250 * 1024 * 1024
    max_ratio: int = 100
    ratio_applies_above: int = 20 * 1024 * 1024
    max_zip_entries: int = 2_000
    # Columns read per row: a stray cell in column XFD must not make every row 16,384 wide.
    max_columns: int = 100
    # What calamine may hold of an xlsx (``_scan_xlsx``'s estimate); a larger one is streamed by
    # openpyxl. A 20,000-row roster is estimated at about 40 MB, the 50,000-row limit near 100 MB.
    max_in_memory_mb: int = 128


class ImportRefused(Exception):
    """The file as a whole cannot be imported; nothing was written. ``message`` is for the user."""

    def __init__(self, message: str, *, code: str) -> None:
        self.message = str(message)
        self.code = code
        super().__init__(self.message)


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


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


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
        return FileInfo(format=_inspect_ole(handle))
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
        raise ImportRefused(_("文件已损坏，无法打开。"), code="corrupt_file") from None
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
        fits = _scan_xlsx(archive, entries, lim)
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
        raise ImportRefused(_("文件已损坏，无法打开。"), code="corrupt_file") from None


# --- What calamine would hold of an xlsx ---------------------------------------------------------

_SCAN_CHUNK = 1024 * 1024
# Text between two tags longer than this is not a cell Excel writes (32,767 characters at most).
_MAX_TEXT_RUN = 1024 * 1024
# calamine's sizes (Rust): a cell value in the grid, and a cell with its position while the sheet
# is read (a vector that doubles as it grows, hence twice).
_GRID_CELL_BYTES = 32
_READ_CELL_BYTES = 2 * 40
_DOCTYPE = b"<!DOCTYPE"
_DOCTYPE_UTF16 = "<!DOCTYPE".encode("utf-16-le")[:-1]  # found in UTF-16-BE too, one byte on
_UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_DECLARATION = re.compile(rb"""(?:\xef\xbb\xbf)?<\?xml[^<>?]*\?>""")
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)""")
# The markup spreadsheet programs write, which calamine and these patterns read alike: no comments,
# CDATA or processing instructions, no "<" or ">" inside attribute values (quick-xml and a pattern
# would end the tag at different places), every cell tag unprefixed (calamine matches local names),
# starting with its reference and without a second one (calamine places a cell at its last ``r``,
# or after the previous cell without one), and plain <v> and <si>.
# Possessive quantifiers: one pass, no backtracking. A number of 16 digits or more in a <v> is an
# ID number a program wrote as a number: calamine reads it as a float and loses digits openpyxl keeps.
_NAME = rb"""[^\s=<>/"'!?]+"""
_ATTRIBUTE = rb"""\s+[^\s=<>/"'!?]+\s*=\s*(?:"[^"<>]*+"|'[^'<>]*+')"""
_OTHER = rb"""<(?!(?:[^\s=<>/"'!?:]+:)?(?:c|v|si)[\s/>])""" + _NAME + rb"(?:" + _ATTRIBUTE + rb")*+\s*/?>"
_CELL_ATTRIBUTES = rb"(?:(?=\s++(?!r\s*=))" + _ATTRIBUTE + rb")*+\s*/?>"


@functools.lru_cache(maxsize=64)
def _plain_markup(last_column: int = 0, last_row: int = 0) -> re.Pattern[bytes]:
    """The pattern a piece of plain markup matches, cells within (last_column, last_row) if given."""
    if last_column and last_row:
        reference = _up_to(last_column, _column_letters) + _up_to(last_row, str)
    else:
        reference = b"[A-Z]{1,3}[1-9][0-9]{0,6}"
    cell = b'<c r="' + reference + b'"' + _CELL_ATTRIBUTES
    tag = rb"</" + _NAME + rb"\s*>|<v>(?!-?[0-9]{16})|" + cell + b"|" + _OTHER + rb"|<v\s*/>|<si>"
    return re.compile(rb"(?:[^<]*+(?:" + tag + rb"))*+[^<]*+")


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _up_to(last: int, spell: Callable[[int], str]) -> bytes:
    """A pattern for the numbers 1..last as ``spell`` writes them (decimal, or column letters):
    every shorter spelling, and the spellings as long as ``last`` that sort before or equal it."""
    text = spell(last)
    low, high = ("1", "9") if spell is str else ("A", "Z")
    first_low = low
    zero = "0" if spell is str else "A"
    options = []
    if len(text) > 1:
        options.append(f"[{first_low}-{high}][{zero}-{high}]{{0,{len(text) - 2}}}")
    for i, char in enumerate(text):
        floor = first_low if i == 0 else zero
        if char > floor:
            options.append(f"{text[:i]}[{floor}-{chr(ord(char) - 1)}][{zero}-{high}]{{{len(text) - i - 1}}}")
    options.append(text)
    return ("(?:" + "|".join(options) + ")").encode()


_DIMENSION = re.compile(rb'<dimension ref="(?:[A-Z]{1,3}[0-9]{1,7}:)?([A-Z]{1,3})([0-9]{1,7})"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})')
_CELL_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]+)')
_VALUE = re.compile(rb"<v>([^<]*)")
# A "<" inside a tag, or a tag left open where the next piece begins.
_LT_IN_TAG = re.compile(rb"<[^<>]*(?:<|$)")


class _XlsxScan:
    """One pass over every part of an xlsx: refuses a DTD, and estimates what calamine would hold.

    The estimate is an upper bound for workbooks in plain markup (``_plain_markup``, UTF-8) whose
    shared strings are not nested: there these patterns see the tags calamine sees. For anything
    else ``vouched`` turns False and the workbook is left to openpyxl.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.vouched = True
        self.estimate = 0
        self.values = 0  # <v> elements: each may name a shared string
        self.sheets: list[zipfile.ZipInfo] = []  # parts with cells
        self.string_sizes: list[int] = []  # bytes from each <si> of xl/sharedStrings.xml to the next

    def part(self, entry: zipfile.ZipInfo) -> None:
        self.estimate += entry.file_size  # the part itself: inline strings, buffers
        shared_strings = entry.filename.lower() == "xl/sharedstrings.xml"
        if shared_strings and self.string_sizes:
            self.vouched = False  # two shared-string tables: which one does calamine read?
        with self.archive.open(entry) as member:
            self._part(member, entry, shared_strings)

    def _part(self, member: IO[bytes], entry: zipfile.ZipInfo, shared_strings: bool) -> None:
        head = member.read(_SCAN_CHUNK)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"<\x00", b"\x00<")):
            self.vouched = False
            self._utf16(head, member)
            return
        if b"\x00" in head[:512]:
            # An image or another binary part; one that holds a sheet is left to openpyxl.
            self._binary(head, member)
            return
        declaration = _DECLARATION.match(head)
        if declaration:
            encoding = _DECLARED_ENCODING.search(declaration.group())
            if encoding and encoding.group(1).lower() not in _UTF8_NAMES:
                self.vouched = False
        # The declared extent, if any, is checked cell by cell by the pattern; cells beyond it (a
        # wrong <dimension>) are measured one by one instead.
        dimension = _DIMENSION.search(head)
        width = _column_number(dimension.group(1)) if dimension else 0
        height = int(dimension.group(2)) if dimension else 0
        within = _plain_markup(width, height) if dimension else None
        measured = sheet = False
        columns: set[bytes] = set()
        rows: set[bytes] = set()
        cells = 0
        sizes = self.string_sizes if shared_strings else []
        closes = 0
        carry, chunk = head[declaration.end() if declaration else 0 :], member.read(_SCAN_CHUNK)
        while carry or chunk:
            buffer = carry + chunk
            # Cut before the last "<": no tag, and no <v> with its text, is split between pieces.
            cut = buffer.rfind(b"<") if chunk else len(buffer)
            if cut <= 0:
                if len(buffer) > _MAX_TEXT_RUN:
                    if buffer.startswith(_DOCTYPE):
                        self._refuse()
                    self.vouched = False
                    buffer = b""
                carry, chunk = buffer, member.read(_SCAN_CHUNK)
                continue
            piece, carry = buffer[:cut], buffer[cut:]
            chunk = member.read(_SCAN_CHUNK) if chunk else b""
            if _DOCTYPE in piece:
                self._refuse()
            if not self.vouched:
                continue
            # calamine reads cells after a <sheetData> only; other parts hold nothing it multiplies.
            sheet = sheet or b"sheetData" in piece
            if sheet and (within is None or not within.fullmatch(piece)):
                if not _plain_markup().fullmatch(piece):
                    self.vouched = False
                    continue
                measured = True
            elif shared_strings and (b"<!" in piece or b"<?" in piece or _LT_IN_TAG.search(piece)):
                self.vouched = False  # a <si> hidden from calamine, or one only these patterns see
                continue
            count = piece.count(b'<c r="')
            if count:
                cells += count
                self.values += piece.count(b"<v>")
                if measured:
                    rows.update(_CELL_ROW.findall(piece))
                    columns.update(_CELL_COLUMN.findall(piece))
                if b' t="e"' in piece:
                    # Error cells: calamine reads them as empty, openpyxl as their text (#N/A).
                    self.vouched = False
            if shared_strings:
                # From each <si> to the next: one </si> in each, or they nest and calamine's i-th
                # string may not be the i-th <si>.
                first, *elements = piece.split(b"<si>")
                if sizes:
                    sizes[-1] += len(first)
                    closes += first.count(b"</si>")
                if elements:
                    counts = list(map(bytes.count, elements, itertools.repeat(b"</si>")))
                    if (sizes and closes != 1) or counts[:-1].count(1) != len(counts) - 1:
                        self.vouched = False
                    closes = counts[-1]
                    sizes += map(len, elements)
        if shared_strings and sizes and closes != 1:
            self.vouched = False
        if cells:
            self.sheets.append(entry)
            width = max(width, *(_column_number(c) for c in columns)) if columns else width
            height = max(height, *(int(r) for r in rows)) if rows else height
            self.estimate += width * height * _GRID_CELL_BYTES + cells * _READ_CELL_BYTES

    def _binary(self, head: bytes, member: IO[bytes]) -> None:
        chunk, tail = head, b""
        while chunk:
            if b"sheetData" in tail + chunk:
                self.vouched = False
                return
            tail, chunk = chunk[-8:], member.read(_SCAN_CHUNK)

    def _utf16(self, head: bytes, member: IO[bytes]) -> None:
        chunk, tail = head, b""
        while chunk:
            if _DOCTYPE_UTF16 in tail + chunk:
                self._refuse()
            tail, chunk = chunk[-len(_DOCTYPE_UTF16) :], member.read(_SCAN_CHUNK)

    @staticmethod
    def _refuse() -> None:
        # OOXML forbids DTDs (ECMA-376 Part 2, §8.1.4); a DTD here is an entity bomb or an XXE.
        raise ImportRefused(_("文件含有不安全的内容（XML 实体），已拒绝。"), code="unsafe_content")

    def strings_estimate(self, budget: int) -> int:
        """Bytes of shared strings calamine copies into cells, each <v> taken as an index.

        First as if every <v> named the longest string; when that is over ``budget``, counted: the
        sheets are read again. calamine reads a text that is not a number as index 0; a number
        beyond the table is not a string (or an error) and counts nothing.
        """
        sizes = self.string_sizes or [0]
        rough = self.values * max(sizes)
        if rough <= budget:
            return rough
        texts: collections.Counter[bytes] = collections.Counter()
        for entry in self.sheets:
            with self.archive.open(entry) as member:
                carry = b""
                for chunk in iter(lambda member=member: member.read(_SCAN_CHUNK), b""):
                    buffer = carry + chunk
                    cut = buffer.rfind(b"<")
                    texts.update(_VALUE.findall(buffer, 0, max(cut, 0)))
                    carry = buffer[max(cut, 0) :]
                texts.update(_VALUE.findall(carry))
        total = 0
        for text, count in texts.items():
            index = int(text) if text.isdigit() and len(text) < 19 else 0
            total += count * (sizes[index] if index < len(sizes) else 0)
        return total


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _scan_xlsx(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], lim: FileLimits) -> bool:
    """Whether calamine may read this xlsx: refuses a DTD in any part, and answers False (openpyxl)
    for a workbook it cannot vouch for or whose estimate exceeds ``lim.max_in_memory_mb``."""
    scan = _XlsxScan(archive)
    try:
        for entry in entries:
            scan.part(entry)
        if not scan.vouched:
            return False
        budget = lim.max_in_memory_mb * 1024 * 1024
        estimate = scan.estimate + scan.strings_estimate(budget - scan.estimate)
    except ImportRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError):
        raise ImportRefused(_("文件已损坏，无法打开。"), code="corrupt_file") from None
    log.debug("xlsx scan: calamine would hold about %.0f MB", estimate / 1024 / 1024)
    return estimate <= budget


def _inspect_ole(handle: IO[bytes]) -> str:
    """An OLE container is an .xls, or an encrypted xlsx (Office wraps those in OLE)."""
    handle.seek(0)
    data = handle.read()
    handle.seek(0)
    if _utf16("EncryptionInfo") in data or _utf16("EncryptedPackage") in data:
        raise ImportRefused(
            _("文件设置了打开密码（已加密），无法读取。请在 Excel 中取消密码后另存为 .xlsx 再导入。"), code="encrypted"
        )
    if _utf16("_VBA_PROJECT") in data:
        raise ImportRefused(_("文件含有宏(VBA)，已拒绝。请删除宏后另存为 .xlsx 再导入。"), code="macro_enabled")
    return "xls"


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
        try:
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
        except ImportRefused:
            raise
        except BaseException as exc:
            if not parser_failure(exc):
                raise
            raise _unreadable(exc) from None

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
        return ImportRefused(_("文件含有不安全的内容（XML 实体），已拒绝。"), code="unsafe_content")
    log.info("unreadable roster file: %s: %s", name, exc)
    return ImportRefused(_("文件已损坏或不是有效的表格文件，无法读取。"), code="corrupt_file")


def guarded(rows: Iterator[tuple[int, Sequence[object]]]) -> Iterator[tuple[int, Sequence[object]]]:
    """Turn any parser failure in the middle of a file into a refusal with a message."""
    try:
        yield from rows
    except ImportRefused:
        raise
    except BaseException as exc:
        if not parser_failure(exc):
            raise
        raise _unreadable(exc) from None


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
    return clean_text(value)


def is_blank(values: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip(" \u3000\xa0\t\r\n")) for v in values)
