"""What python-calamine would hold of an ods, worked out before it opens one.

There is no streaming reader for an ods to fall back on (openpyxl is that for an xlsx): one whose
estimate is over ``FileLimits.max_in_memory_mb`` is refused, and so is a DTD in content.xml.
content.xml is streamed through expat (no tree), the repeats counted as calamine counts them.
"""

from __future__ import annotations

import logging
import xml.parsers.expat
import zipfile
import zlib

from lib.spreadsheets.base import MAX_TEXT_RUN, SCAN_CHUNK, FileLimits, ImportRefused, corrupt, too_large, unsafe

log = logging.getLogger(__name__)

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


class OdsScan:
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
                raise too_large(estimate, self.lim)
        elif name == "table:table" and self.table:
            self.table = self.in_row = False
            self.done += self._table_estimate()
            self._start_table()

    @staticmethod
    def doctype(*args) -> None:
        # ODF has no DTD either; a DTD here is an entity bomb or an XXE.
        raise unsafe()


def scan_ods(archive: zipfile.ZipFile, lim: FileLimits) -> None:
    """Refuse an ods whose content.xml has a DTD, or whose sheets calamine would hold in more than
    ``lim.max_in_memory_mb`` (there is no streaming reader to fall back on, as openpyxl is for xlsx)."""
    scan = OdsScan(lim)
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
            for chunk in iter(lambda: member.read(SCAN_CHUNK), b""):
                # expat holds a whole tag, or a whole text, until it ends: a run this long without a
                # ">" is not a sheet, and must not be held.
                end = chunk.rfind(b">")
                since_tag_end = len(chunk) - end - 1 if end >= 0 else since_tag_end + len(chunk)
                if since_tag_end > MAX_TEXT_RUN:
                    raise corrupt()
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except ImportRefused:
        raise
    except KeyError:
        raise corrupt() from None
    except (xml.parsers.expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        raise corrupt() from None
    log.debug("ods scan: calamine would hold about %.0f MB", scan.done / 1024 / 1024)
