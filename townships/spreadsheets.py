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
An ods or xls has no such fallback: ``_scan_ods`` (content.xml, streamed through expat, repeats
counted as calamine counts them) and ``_scan_xls`` (the cell records of the OLE Workbook stream) refuse
one whose estimate is over that limit.
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
        kind = _inspect_ole(handle)
        _scan_xls(handle, lim)
        return FileInfo(format=kind)
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
        raise _corrupt() from None
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
        _scan_ods(archive, lim)
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
        raise _corrupt() from None


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
                        raise _unsafe()
                    self.vouched = False
                    buffer = b""
                carry, chunk = buffer, member.read(_SCAN_CHUNK)
                continue
            piece, carry = buffer[:cut], buffer[cut:]
            chunk = member.read(_SCAN_CHUNK) if chunk else b""
            if _DOCTYPE in piece:
                raise _unsafe()
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
                raise _unsafe()
            tail, chunk = chunk[-len(_DOCTYPE_UTF16) :], member.read(_SCAN_CHUNK)

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
        raise _corrupt() from None
    log.debug("xlsx scan: calamine would hold about %.0f MB", estimate / 1024 / 1024)
    return estimate <= budget


def _corrupt() -> ImportRefused:
    return ImportRefused(_("文件已损坏，无法打开。"), code="corrupt_file")


def _unsafe() -> ImportRefused:
    # OOXML forbids DTDs (ECMA-376 Part 2, §8.1.4) and ODF uses none: a DTD is an entity bomb or an XXE.
    return ImportRefused(_("文件含有不安全的内容（XML 实体），已拒绝。"), code="unsafe_content")


def _too_large(estimate: int, lim: FileLimits) -> ImportRefused:
    return ImportRefused(
        _(
            "表格的使用范围异常庞大（读取约需 %(mb).0f MB 内存，上限 %(max)d MB），"
            "可能含有远处的单元格或大量重复的行列，已拒绝。请删除多余的行列，或拆分文件后再导入。"
        )
        % {"mb": estimate / 1024 / 1024, "max": lim.max_in_memory_mb},
        code="too_many_rows",
    )


# --- What calamine would hold of an ods ----------------------------------------------------------

# calamine (0.37, in python-calamine 0.9.1) reads content.xml into a vector of cells per row element
# (every cell but a row's last run of empty ones, each a 32-byte value and a 24-byte formula string),
# then builds the dense grid from the first to the last non-empty row and column, repeated rows
# written out, keeping at most 1,048,576 rows and 16,384 columns. Measured: 53 to 61 bytes a cell,
# 12 GB for one 803-byte file (a cell repeated 16,384 times in a row repeated 6,000 times), 17 GB for
# 20,000 rows each of 16,000 empty cells followed by one more empty cell. Trailing empty cells and rows,
# which LibreOffice writes in every file (``number-columns-repeated="16373"``,
# ``number-rows-repeated="1048567"``), cost nothing and count nothing here.
_ODS_CELL_BYTES = 56
_ODS_STRING_BYTES = 16  # a text's allocation beyond its length, in each cell that holds a copy
_ODS_MAX_ROWS = 1_048_576
_ODS_MAX_COLUMNS = 16_384
_ODS_CELLS = (b"table:table-cell", b"table:covered-table-cell")
# Any of these makes a cell count as holding something (calamine: a value or a formula). Text or an
# element inside a cell counts too: at worst the estimate is higher than what calamine holds.
_ODS_VALUE_ATTRIBUTES = (
    "office:value-type",
    "office:value",
    "office:string-value",
    "office:date-value",
    "office:time-value",
    "office:boolean-value",
    "table:formula",
)


def _repeat(attributes: dict[str, str], name: str) -> int:
    value = attributes.get(name)
    if value is None:
        return 1
    try:
        return max(int(value), 0)
    except ValueError:
        return 1  # calamine refuses the file; nothing to estimate


class _OdsScan:
    """One streaming pass over content.xml (expat, no tree): refuses a DTD, and estimates what
    calamine would hold, raising as soon as the estimate is over ``budget``."""

    def __init__(self, lim: FileLimits) -> None:
        self.lim = lim
        self.budget = lim.max_in_memory_mb * 1024 * 1024
        self.done = 0  # bytes of the tables already read
        self.table = False
        self._start_table()
        self.in_row = False
        self.cell_depth = 0  # 1 inside a cell, more inside its elements

    def _start_table(self) -> None:
        self.row = 0  # rows so far, repeats counted
        self.pushed = 0  # cells calamine keeps while it reads the table
        self.strings = 0  # bytes of text copies
        self.last_row = -1
        self.first_column = _ODS_MAX_COLUMNS
        self.last_column = -1

    def _table_estimate(self) -> int:
        grid = 0
        if self.last_row >= 0:
            # From the first row: calamine's row numbers start at A1 (CalamineSheet pads nothing).
            grid = (self.last_row + 1) * (self.last_column - self.first_column + 1)
        return (self.pushed + grid) * _ODS_CELL_BYTES + self.strings

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if self.cell_depth:
            self.cell_depth += 1
            self.filled = True
            if name == "text:s":
                self.text += _repeat(attributes, "text:c")
            return
        if name == "table:table":
            self.table = True
            self._start_table()
        elif name == "table:table-row" and self.table:
            self.in_row = True
            self.rows = min(_repeat(attributes, "table:number-rows-repeated"), _ODS_MAX_ROWS - self.row)
            self.column = 0
            self.kept = 0  # cells of this row element calamine pushes
            self.row_first = _ODS_MAX_COLUMNS
            self.row_last = -1
            self.row_strings = 0
        elif self.in_row and name.encode() in _ODS_CELLS:
            self.cell_depth = 1
            self.kept = self.column  # a cell after an empty run: the run is pushed
            self.cell_repeat = _repeat(attributes, "table:number-columns-repeated")
            self.filled = any(a in attributes for a in _ODS_VALUE_ATTRIBUTES)
            self.text = sum(len(attributes.get(a, "")) for a in ("office:string-value", "table:formula"))

    def characters(self, data: str) -> None:
        if self.cell_depth:
            self.filled = True
            self.text += len(data.encode("utf-8", "replace"))

    def end(self, name: str) -> None:
        if self.cell_depth:
            self.cell_depth -= 1
            if self.cell_depth:
                return
            width = max(min(self.cell_repeat, _ODS_MAX_COLUMNS - self.column), 0)
            if self.filled and width:
                self.kept = self.column + width
                self.row_first = min(self.row_first, self.column)
                self.row_last = self.column + width - 1
                self.row_strings += width * (self.text + _ODS_STRING_BYTES if self.text else 0)
            self.column = min(self.column + self.cell_repeat, _ODS_MAX_COLUMNS)
        elif name == "table:table-row" and self.in_row:
            self.in_row = False
            self.pushed += self.kept
            # A text is copied into each cell of the row element, then into each row of the grid.
            self.strings += self.row_strings * (1 + self.rows)
            if self.row_last >= 0 and self.rows:
                self.last_row = self.row + self.rows - 1
                self.first_column = min(self.first_column, self.row_first)
                self.last_column = max(self.last_column, self.row_last)
            self.row += self.rows
            estimate = self.done + self._table_estimate()
            if estimate > self.budget:
                raise _too_large(estimate, self.lim)
        elif name == "table:table" and self.table:
            self.table = self.in_row = False
            self.done += self._table_estimate()
            self._start_table()

    @staticmethod
    def doctype(*args) -> None:
        # ODF has no DTD either; a DTD here is an entity bomb or an XXE.
        raise _unsafe()


def _scan_ods(archive: zipfile.ZipFile, lim: FileLimits) -> None:
    """Refuse an ods whose content.xml has a DTD, or whose sheets calamine would hold in more than
    ``lim.max_in_memory_mb`` (there is no streaming reader to fall back on, as openpyxl is for xlsx)."""
    import xml.parsers.expat

    scan = _OdsScan(lim)
    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.characters
    parser.StartDoctypeDeclHandler = scan.doctype
    parser.EntityDeclHandler = scan.doctype
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        with archive.open("content.xml") as member:
            since_tag_end = 0
            for chunk in iter(lambda: member.read(_SCAN_CHUNK), b""):
                # expat holds a whole tag, or a whole text, until it ends: a run this long without a
                # ">" is not a sheet, and must not be held.
                end = chunk.rfind(b">")
                since_tag_end = len(chunk) - end - 1 if end >= 0 else since_tag_end + len(chunk)
                if since_tag_end > _MAX_TEXT_RUN:
                    raise _corrupt()
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except ImportRefused:
        raise
    except KeyError:
        raise _corrupt() from None
    except (xml.parsers.expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        raise _corrupt() from None
    log.debug("ods scan: calamine would hold about %.0f MB", scan.done / 1024 / 1024)


# --- What calamine would hold of an xls ----------------------------------------------------------

# calamine reads an xls sheet's cell records into a list, then makes the dense grid from the first to
# the last row and column any cell names (not from the DIMENSIONS record). A BIFF8 cell record holds
# its row and column as 16-bit numbers, so a 7.7 KB file with one cell moved to column 16,383 (which
# Excel never writes; its limit is 256) asks for a 34 GB grid, and one at row 65,535, column 255
# holds 1 GB. The cells are found by walking the records of the Workbook stream inside the OLE
# (compound file) container, which ``_ole_stream`` reads.
_XLS_CELL_BYTES = 64  # 32 in the grid; python-calamine copies the sheet's range when it is opened
_XLS_RECORD_BYTES = 40  # a cell with its position, while the sheet is read
_BIFF_BOF = 0x0809
_BIFF_EOF = 0x000A
# FORMULA, LABELSST, NUMBER, RK, LABEL, BOOLERR, RSTRING; MULRK spans columns. calamine leaves BLANK and
# MULBLANK (formatted empty cells, which Excel writes up to column IV) out of the grid: so does this.
_BIFF_CELLS = {0x0006, 0x0406, 0x00FD, 0x0203, 0x027E, 0x0204, 0x0205, 0x00D6}
_BIFF_MULTI = {0x00BD}
_ENDOFCHAIN = 0xFFFFFFFE


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """A stream of a compound file (MS-CFB), by name; ``None`` if there is none. Raises ValueError,
    IndexError or struct.error on a malformed container. Every chain is bounded by the file's size."""
    import struct

    if len(data) < 512:
        raise ValueError("short header")
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if not (7 <= shift <= 16 and mini_shift < shift):
        raise ValueError("sector size")
    size = 1 << shift
    sectors = (len(data) - 512 + size - 1) // size + 1
    first_dir, _tx, cutoff, first_minifat, _n_minifat, first_difat, n_difat = struct.unpack_from("<IIIIIII", data, 0x30)

    def sector(number: int) -> bytes:
        start = 512 + number * size if shift == 9 else (number + 1) * size
        if number >= sectors or start >= len(data):
            raise ValueError("sector out of range")
        return data[start : start + size]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat = first_difat
    for _sector in range(min(n_difat, sectors)):
        if next_difat >= _ENDOFCHAIN:
            break
        entries = struct.unpack(f"<{size // 4}I", sector(next_difat))
        difat += entries[:-1]
        next_difat = entries[-1]
    fat: list[int] = []
    for number in difat:
        if number >= _ENDOFCHAIN - 2:  # free, end of chain, FAT or DIFAT sector marks
            continue
        fat.extend(struct.unpack(f"<{size // 4}I", sector(number)))
        if len(fat) > sectors * 2 + size:
            raise ValueError("FAT larger than the file")

    def chain(first: int, table: list[int], read: Callable[[int], bytes]) -> bytes:
        out, number, seen = [], first, 0
        while number < _ENDOFCHAIN - 4:
            out.append(read(number))
            number = table[number]
            seen += 1
            if seen > len(table):
                raise ValueError("sector chain loops")
        return b"".join(out)

    directory = chain(first_dir, fat, sector)
    entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    root = entries[0]
    wanted = None
    for entry in entries:
        length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[: max(length - 2, 0)].decode("utf-16-le", "replace")
        if entry[66] == 2 and name in names:
            wanted = entry
            break
    if wanted is None:
        return None
    start, length = struct.unpack_from("<II", wanted, 116)
    if length >= cutoff:
        stream = chain(start, fat, sector)
    else:
        mini_stream = chain(struct.unpack_from("<I", root, 116)[0], fat, sector)
        minifat: list[int] = []
        if first_minifat < _ENDOFCHAIN:
            table = chain(first_minifat, fat, sector)
            minifat = list(struct.unpack(f"<{len(table) // 4}I", table))
        mini = 1 << mini_shift

        def mini_sector(number: int) -> bytes:
            if (number + 1) * mini > len(mini_stream):
                raise ValueError("mini sector out of range")
            return mini_stream[number * mini : (number + 1) * mini]

        stream = chain(start, minifat, mini_sector)
    return stream[:length]


class _XlsSheet:
    def __init__(self) -> None:
        self.cells = 0
        self.rows = self.columns = (1 << 16, -1)

    def add(self, row: int, first: int, last: int, count: int) -> None:
        self.cells += count
        self.rows = (min(self.rows[0], row), max(self.rows[1], row))
        self.columns = (min(self.columns[0], first), max(self.columns[1], last))

    def estimate(self) -> int:
        if not self.cells:
            return 0
        grid = (self.rows[1] - self.rows[0] + 1) * (self.columns[1] - self.columns[0] + 1)
        return grid * _XLS_CELL_BYTES + self.cells * _XLS_RECORD_BYTES


def _scan_xls(handle: IO[bytes], lim: FileLimits) -> None:
    """Refuse an xls whose sheets calamine would hold in more than ``lim.max_in_memory_mb``."""
    import struct

    handle.seek(0)
    data = handle.read()
    handle.seek(0)
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
    except (ValueError, IndexError, struct.error):
        raise _corrupt() from None
    if stream is None:
        return  # not a workbook; calamine says so
    budget = lim.max_in_memory_mb * 1024 * 1024
    done = estimate = 0
    sheet = _XlsSheet()
    position, end = 0, len(stream) - 4
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        position = body + length
        if kind == _BIFF_BOF:
            sheet = _XlsSheet()
        elif kind in _BIFF_CELLS and length >= 4:
            row, column = struct.unpack_from("<HH", stream, body)
            sheet.add(row, column, column, 1)
        elif kind in _BIFF_MULTI and length >= 6 and position <= len(stream):
            row, first = struct.unpack_from("<HH", stream, body)
            last = struct.unpack_from("<H", stream, position - 2)[0]
            sheet.add(row, min(first, last), max(first, last), abs(last - first) + 1)
        elif kind != _BIFF_EOF:
            continue
        estimate = done + sheet.estimate()
        if estimate > budget:
            raise _too_large(estimate, lim)
        if kind == _BIFF_EOF:
            done, sheet = estimate, _XlsSheet()
    log.debug("xls scan: calamine would hold about %.0f MB", max(done, estimate) / 1024 / 1024)


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
        return _unsafe()
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
