"""What python-calamine would hold of an xls, and whether to open one at all.

The OLE container around the workbook is ``ole``'s (olefile, held to what calamine reads). Here the
records of its Workbook stream are walked. calamine reads an xls sheet's cell records into a list,
then makes the dense grid from the first to the last row and column any cell names. A BIFF8 cell
record holds its row and column as 16-bit numbers, so a 7.7 KB file with one cell moved to column
16,383 (which Excel never writes; its limit is 256) asks for a 34 GB grid, and one at row 65,535,
column 255 holds 1 GB. No maintained library reports that extent without reading every cell first
(xlrd builds a Python object for each; calamine is what is being guarded). The same walk finds
Excel 4 (XLM) macro sheets, and DIMENSIONS records calamine would reserve terabytes for.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from typing import IO

from django.utils.translation import gettext as _

from lib.spreadsheets.base import FileLimits, ImportRefused, corrupt, too_large
from lib.spreadsheets.ole import open_ole, refuse_encrypted_or_macros, vba_macros, workbook_stream

log = logging.getLogger(__name__)

_XLS_CELL_BYTES = 64  # 32 in the grid; python-calamine copies the sheet's range when it is opened
_XLS_RECORD_BYTES = 40  # a cell with its position, while the sheet is read
_BIFF_BOF = 0x0809
_BIFF_EOF = 0x000A
_BIFF_BOUNDSHEET = 0x0085
# The sheet types of BOUNDSHEET records that hold macros: an Excel 4 (XLM) macro sheet, a VBA module.
_XLM_SHEET, _VBA_SHEET = 0x01, 0x06
_MACRO_SHEETS = (_XLM_SHEET, _VBA_SHEET)
# FORMULA, LABELSST, NUMBER, RK, LABEL, BOOLERR, RSTRING; MULRK spans columns. calamine leaves BLANK and
# MULBLANK (formatted empty cells, which Excel writes up to column IV) out of the grid: so does this.
_BIFF_CELLS = {0x0006, 0x0406, 0x00FD, 0x0203, 0x027E, 0x0204, 0x0205, 0x00D6}
_BIFF_MULTI = {0x00BD}
# calamine reserves 40 bytes for each cell a sheet's DIMENSIONS record declares before it reads any,
# its subtractions wrapping round as unsigned numbers: a file declaring rows 9 to 8 asked for 2 TB and
# aborted the process (found by fuzzing roster.xls). A BIFF8 sheet has at most 65,536 × 256 cells;
# a DIMENSIONS record claiming all of them costs an untouched reservation and is let through.
_BIFF_DIMENSIONS = 0x0200
_XLS_RESERVED_BYTES = 40
_XLS_MAX_DECLARED = 65_536 * 256


def inspect_ole(handle: IO[bytes], size: int, lim: FileLimits) -> str:
    """An OLE upload's format ("xls"), refusing an encrypted workbook, one with macros, a damaged
    container, and one whose sheets calamine would hold in more than ``lim.max_in_memory_mb``."""
    ole = open_ole(handle)
    try:
        refuse_encrypted_or_macros(ole)
        stream = workbook_stream(ole, handle, size)
    except ImportRefused:
        raise
    except Exception:  # olefile on a damaged directory: OSError, TypeError, IndexError, ...
        raise corrupt() from None
    finally:
        ole.close()
    if stream is not None:
        scan_biff(stream, lim)
    handle.seek(0)
    return "xls"


def _macros(sheet_type: int) -> ImportRefused:
    if sheet_type == _XLM_SHEET:
        return ImportRefused(
            _("文件含有 Excel 4.0 宏表，已拒绝。请删除宏表后另存为 .xlsx 再导入。"), code="macro_enabled"
        )
    return vba_macros()


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


def _records(stream: bytes) -> Iterator[tuple[int, int, int]]:
    """(kind, body start, body end) of each BIFF record; a record cut short ends the walk."""
    position, end = 0, len(stream) - 4
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        position = body + length
        if position > len(stream):
            return
        yield kind, body, position


def _cells(stream: bytes, kind: int, body: int, end: int) -> tuple[int, int, int, int] | None:
    """(row, first column, last column, cells) of a cell record, ``None`` for any other record."""
    if kind in _BIFF_CELLS and end - body >= 4:
        row, column = struct.unpack_from("<HH", stream, body)
        return row, column, column, 1
    if kind in _BIFF_MULTI and end - body >= 6:
        row, first = struct.unpack_from("<HH", stream, body)
        last = struct.unpack_from("<H", stream, end - 2)[0]
        return row, min(first, last), max(first, last), abs(last - first) + 1
    return None


def _declared(stream: bytes, body: int, end: int) -> int:
    """The cells a DIMENSIONS record declares, counted as calamine counts them (BIFF8, or BIFF5's
    16-bit rows)."""
    shape = "<IIHH" if end - body >= 12 else "<HHHH" if end - body >= 8 else ""
    if not shape:
        return 0
    first_row, last_row, first_column, last_column = struct.unpack_from(shape, stream, body)
    return ((last_row - first_row) % 2**32) * ((last_column - first_column) % 2**16)


def scan_biff(stream: bytes, lim: FileLimits) -> None:
    """Refuse a Workbook stream with a macro sheet, or whose sheets calamine would hold in more than
    ``lim.max_in_memory_mb``."""
    budget = lim.max_in_memory_mb * 1024 * 1024
    done = estimate = 0
    sheet = _XlsSheet()
    for kind, body, end in _records(stream):
        if kind == _BIFF_BOUNDSHEET and end - body >= 6 and stream[body + 5] in _MACRO_SHEETS:
            raise _macros(stream[body + 5])
        if kind == _BIFF_DIMENSIONS and (declared := _declared(stream, body, end)) > _XLS_MAX_DECLARED:
            raise too_large(declared * _XLS_RESERVED_BYTES, lim)
        if kind == _BIFF_BOF:
            sheet = _XlsSheet()
            continue
        cells = _cells(stream, kind, body, end)
        if cells is not None:
            sheet.add(*cells)
        elif kind != _BIFF_EOF:
            continue
        estimate = done + sheet.estimate()
        if estimate > budget:
            raise too_large(estimate, lim)
        if kind == _BIFF_EOF:
            done, sheet = estimate, _XlsSheet()
    log.debug("xls scan: calamine would hold about %.0f MB", max(done, estimate) / 1024 / 1024)
