"""What python-calamine would hold of an xlsx, worked out before it opens one.

calamine holds a whole sheet in memory, as a dense grid from A1 to the last used cell, with every
shared string copied into each cell that uses it: one stray cell in XFD1048576, or a megabyte string
used by 100,000 cells, asks it for terabytes (and a failed allocation aborts the process; no
exception to catch). So before calamine opens an xlsx, ``scan_xlsx`` reads every part once and
works out what calamine would hold; a workbook whose cells it cannot vouch for, or that would not fit
in ``FileLimits.max_in_memory_mb``, is read by openpyxl, whose memory does not grow with the sheet.
A DTD in any part is refused outright.
"""

from __future__ import annotations

import codecs
import collections
import functools
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from lib.spreadsheets.base import MAX_TEXT_RUN, SCAN_CHUNK, FileLimits, ImportRefused, corrupt, unsafe

log = logging.getLogger(__name__)

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
_UTF16_STARTS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"<\x00", b"\x00<")


@dataclass
class _Part:
    """What one part's pieces have shown so far."""

    shared_strings: bool
    # The declared extent, if any, is checked cell by cell by the pattern; cells beyond it (a wrong
    # <dimension>) are measured one by one instead.
    width: int = 0
    height: int = 0
    within: re.Pattern[bytes] | None = None
    in_sheet: bool = False  # calamine reads cells after a <sheetData> only
    measured: bool = False
    cells: int = 0
    closes: int = 0  # </si> since the last <si>
    columns: set[bytes] = field(default_factory=set)
    rows: set[bytes] = field(default_factory=set)

    @classmethod
    def starting(cls, head: bytes, *, shared_strings: bool) -> _Part:
        dimension = _DIMENSION.search(head)
        if dimension is None:
            return cls(shared_strings)
        width, height = _column_number(dimension.group(1)), int(dimension.group(2))
        return cls(shared_strings, width, height, _plain_markup(width, height))

    def grid(self) -> tuple[int, int]:
        width = max(self.width, *(_column_number(c) for c in self.columns)) if self.columns else self.width
        height = max(self.height, *(int(r) for r in self.rows)) if self.rows else self.height
        return width, height


class XlsxScan:
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
        head = member.read(SCAN_CHUNK)
        if head.startswith(_UTF16_STARTS):
            self.vouched = False
            self._utf16(head, member)
            return
        if b"\x00" in head[:512]:
            # An image or another binary part; one that holds a sheet is left to openpyxl.
            self._binary(head, member)
            return
        part = _Part.starting(head, shared_strings=shared_strings)
        for piece in self._pieces(member, self._after_declaration(head)):
            if self.vouched:
                self._piece(part, piece)
        if shared_strings and self.string_sizes and part.closes != 1:
            self.vouched = False
        if part.cells:
            self.sheets.append(entry)
            width, height = part.grid()
            self.estimate += width * height * _GRID_CELL_BYTES + part.cells * _READ_CELL_BYTES

    def _after_declaration(self, head: bytes) -> bytes:
        declaration = _DECLARATION.match(head)
        if declaration is None:
            return head
        encoding = _DECLARED_ENCODING.search(declaration.group())
        if encoding and encoding.group(1).lower() not in _UTF8_NAMES:
            self.vouched = False
        return head[declaration.end() :]

    def _pieces(self, member: IO[bytes], carry: bytes) -> Iterator[bytes]:
        """The part in pieces cut before a "<" (no tag, and no <v> with its text, is split between
        two), refusing a DTD in any of them."""
        chunk = member.read(SCAN_CHUNK)
        while carry or chunk:
            buffer = carry + chunk
            cut = buffer.rfind(b"<") if chunk else len(buffer)
            if cut <= 0:
                carry, chunk = self._long_run(buffer), member.read(SCAN_CHUNK)
                continue
            piece, carry = buffer[:cut], buffer[cut:]
            chunk = member.read(SCAN_CHUNK) if chunk else b""
            if _DOCTYPE in piece:
                raise unsafe()
            yield piece

    def _long_run(self, buffer: bytes) -> bytes:
        """Text without a "<" is carried on, unless it is longer than any cell: then it is dropped
        (and the workbook left to openpyxl), or refused if it is a DTD."""
        if len(buffer) <= MAX_TEXT_RUN:
            return buffer
        if buffer.startswith(_DOCTYPE):
            raise unsafe()
        self.vouched = False
        return b""

    def _piece(self, part: _Part, piece: bytes) -> None:
        if not self._plain(part, piece):
            self.vouched = False
            return
        count = piece.count(b'<c r="')
        if count:
            self._cells(part, piece, count)
        if part.shared_strings:
            self._strings(part, piece)

    @staticmethod
    def _plain(part: _Part, piece: bytes) -> bool:
        """Whether these patterns see in ``piece`` what calamine sees."""
        part.in_sheet = part.in_sheet or b"sheetData" in piece
        if part.in_sheet:
            if part.within is not None and part.within.fullmatch(piece):
                return True
            part.measured = True
            return _plain_markup().fullmatch(piece) is not None
        if part.shared_strings:
            # A <si> hidden from calamine, or one only these patterns see.
            return not (b"<!" in piece or b"<?" in piece or _LT_IN_TAG.search(piece))
        return True

    def _cells(self, part: _Part, piece: bytes, count: int) -> None:
        part.cells += count
        self.values += piece.count(b"<v>")
        if part.measured:
            part.rows.update(_CELL_ROW.findall(piece))
            part.columns.update(_CELL_COLUMN.findall(piece))
        if b' t="e"' in piece:
            # Error cells: calamine reads them as empty, openpyxl as their text (#N/A).
            self.vouched = False

    def _strings(self, part: _Part, piece: bytes) -> None:
        """From each <si> to the next: one </si> in each, or they nest and calamine's i-th string
        may not be the i-th <si>."""
        sizes = self.string_sizes
        first, *elements = piece.split(b"<si>")
        if sizes:
            sizes[-1] += len(first)
            part.closes += first.count(b"</si>")
        if elements:
            counts = [element.count(b"</si>") for element in elements]
            if (sizes and part.closes != 1) or counts[:-1].count(1) != len(counts) - 1:
                self.vouched = False
            part.closes = counts[-1]
            sizes.extend(map(len, elements))

    def _binary(self, head: bytes, member: IO[bytes]) -> None:
        chunk, tail = head, b""
        while chunk:
            if b"sheetData" in tail + chunk:
                self.vouched = False
                return
            tail, chunk = chunk[-8:], member.read(SCAN_CHUNK)

    def _utf16(self, head: bytes, member: IO[bytes]) -> None:
        chunk, tail = head, b""
        while chunk:
            if _DOCTYPE_UTF16 in tail + chunk:
                raise unsafe()
            tail, chunk = chunk[-len(_DOCTYPE_UTF16) :], member.read(SCAN_CHUNK)

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
                for chunk in iter(lambda member=member: member.read(SCAN_CHUNK), b""):
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


def scan_xlsx(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], lim: FileLimits) -> bool:
    """Whether calamine may read this xlsx: refuses a DTD in any part, and answers False (openpyxl)
    for a workbook it cannot vouch for or whose estimate exceeds ``lim.max_in_memory_mb``."""
    scan = XlsxScan(archive)
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
        raise corrupt() from None
    log.debug("xlsx scan: calamine would hold about %.0f MB", estimate / 1024 / 1024)
    return estimate <= budget
