"""Writing spreadsheets people open in Excel and WPS: the one place for the house rules.

- Cell text a user typed that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR is written as
  text (prefixed with an apostrophe-free quote prefix flag), so a spreadsheet never runs it.
- Dates are real dates, numbers real numbers; the header row is bold and frozen; columns have
  widths that fit Chinese text.
- Workbooks are written in openpyxl's write-only mode to a temporary file and streamed back, so a
  ledger of any length holds one row in memory at a time.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 14


def safe_value(value):
    """A value as it should land in a cell: typed text that could be a formula stays text."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: write the local (Asia/Shanghai) wall-clock time.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool | int | float | Decimal | datetime.date):
        return value
    # Control characters pasted into a text box are not allowed in the file format: drop them
    # rather than fail the whole export.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def cell(sheet: Worksheet, value, *, bold: bool = False) -> WriteOnlyCell:
    value = safe_value(value)
    c = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        # Stored as a string cell with the quote prefix: shown as typed, never evaluated.
        c.data_type = "s"
        c.quotePrefix = True
    elif isinstance(value, datetime.datetime):
        c.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        c.number_format = DATE_FORMAT
    if bold:
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = Alignment(vertical="center", wrap_text=True)
    return c


class SheetWriter:
    """One sheet of a write-only workbook: header first, then rows."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column], *, caption: str = "") -> None:
        self.sheet = workbook.create_sheet(title=title[:31])
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[_letter(index)].width = column.width
        header_row = 2 if caption else 1
        # Write-only sheets take their view settings before the first row is written.
        self.sheet.freeze_panes = f"A{header_row + 1}"
        if caption:
            self.sheet.append([cell(self.sheet, caption, bold=True)])
        self.sheet.append([cell(self.sheet, c.title, bold=True) for c in columns])
        self.rows = 0

    def write(self, values: Iterable) -> None:
        self.sheet.append([plain_or_cell(self.sheet, v) for v in values])
        self.rows += 1


def plain_or_cell(sheet: Worksheet, value):
    """What ``cell`` would write, as a bare value when that is the same thing.

    openpyxl writes bare values through one reused cell; a cell object per value costs several
    times more, which a 50,000-row ledger feels. Only text that could run as a formula and dates
    (which need their number format) get a cell of their own.
    """
    value = safe_value(value)
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, str) and not value.startswith(FORMULA_TRIGGERS):
        return value
    return cell(sheet, value)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def xlsx_response(workbook: Workbook, filename: str) -> FileResponse:
    """Save to a temporary file (deleted when the response is closed) and stream it.

    ``filename`` is Chinese, e.g. 访调对接台账_2026-11-25.xlsx; browsers get it through RFC 6266's
    ``filename*`` and old clients an ASCII fallback.
    """
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the FileResponse
    workbook.save(handle)
    handle.seek(0)
    response = FileResponse(handle, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response


def dated_filename(stem: str) -> str:
    return f"{stem}_{timezone.localdate().isoformat()}.xlsx"
