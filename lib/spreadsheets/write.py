"""Writing spreadsheets people open in Excel and WPS: the one place for the house rules.

- Cell text a user typed that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR is written as
  text with the quote prefix flag, so a spreadsheet shows it as typed and never runs it. Every
  string is written as a string: nothing typed becomes a formula, a link or a number.
- Dates are real dates, numbers real numbers; the header row is bold and frozen; columns have
  widths that fit Chinese text.
- Workbooks are written by XlsxWriter in its constant-memory mode into a temporary file and
  streamed back: each row goes to disk as the next one starts, so a ledger of any length holds one
  row in memory. XlsxWriter writes the 45,000-row ledger in about half the time openpyxl's
  write-only mode takes (BENCHMARKS.md, "Ledger export"). Reading stays with openpyxl/calamine.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Control characters pasted into a text box (other than tab, LF and CR): Excel would show them as
# _x000B_ escapes, so they are dropped rather than carried into the cell.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

OPTIONS = {
    "constant_memory": True,
    # XlsxWriter's defaults would read meaning into text: "=…" as a formula, "http://…" as a link.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 14


def safe_value(value):
    """A value as it should land in a cell (Excel has no time zones: local wall-clock time)."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool | int | float | Decimal | datetime.date):
        return value
    return CONTROL_CHARACTERS.sub("", str(value))


class Workbook:
    """A workbook written into a temporary file, deleted when the response that streams it closes."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
        self.book = xlsxwriter.Workbook(self.file, OPTIONS)
        add = self.book.add_format
        self.formats = {
            "header": add({"bold": True, "bg_color": "#F2DCDB", "valign": "vcenter", "text_wrap": True}),
            "date": add({"num_format": DATE_FORMAT}),
            "datetime": add({"num_format": DATETIME_FORMAT}),
            "quoted": add({"quote_prefix": True}),
            "text": add({"num_format": "@"}),
        }

    def close(self) -> IO[bytes]:
        self.book.close()
        self.file.seek(0)
        return self.file


class SheetWriter:
    """One sheet of a workbook: an optional caption row, the header, then rows, in that order."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column], *, caption: str = "") -> None:
        self.sheet = workbook.book.add_worksheet(str(title)[:31])
        self.formats = workbook.formats
        for index, column in enumerate(columns):
            self.sheet.set_column(index, index, column.width)
        self.row = 0
        header = self.formats["header"]
        if caption:
            self.sheet.write_string(0, 0, safe_value(caption), header)
            self.row = 1
        for index, column in enumerate(columns):
            self.sheet.write_string(self.row, index, safe_value(column.title), header)
        self.row += 1
        self.sheet.freeze_panes(self.row, 0)
        self.rows = 0

    def write(self, values: Iterable[Any]) -> None:
        """One row. The common types are told apart by ``type()`` first: this runs for every cell of
        a 45,000-row ledger, and ``isinstance`` chains cost a visible share of it."""
        sheet, row, formats = self.sheet, self.row, self.formats
        for col, value in enumerate(values):
            kind = type(value)
            if value is None:
                continue
            if kind is str:
                if CONTROL_CHARACTERS.search(value):
                    value = CONTROL_CHARACTERS.sub("", value)
                if value.startswith(FORMULA_TRIGGERS):
                    sheet.write_string(row, col, value, formats["quoted"])
                elif value:
                    sheet.write_string(row, col, value)
            elif kind is int or kind is float or kind is Decimal:
                sheet.write_number(row, col, value)
            elif kind is datetime.datetime:
                sheet.write_datetime(row, col, safe_value(value), formats["datetime"])
            elif kind is datetime.date:
                sheet.write_datetime(row, col, value, formats["date"])
            elif kind is bool:
                sheet.write_boolean(row, col, value)
            else:  # a lazy translation, a subclass of one of the above
                self._write_other(col, safe_value(value))
        self.row += 1
        self.rows += 1

    def _write_other(self, col: int, value: Any) -> None:
        if isinstance(value, str):
            fmt = self.formats["quoted"] if value.startswith(FORMULA_TRIGGERS) else None
            self.sheet.write_string(self.row, col, value, fmt)
        elif isinstance(value, bool):
            self.sheet.write_boolean(self.row, col, value)
        elif isinstance(value, datetime.datetime):
            self.sheet.write_datetime(self.row, col, value, self.formats["datetime"])
        elif isinstance(value, datetime.date):
            self.sheet.write_datetime(self.row, col, value, self.formats["date"])
        else:
            self.sheet.write_number(self.row, col, value)

    def blank_text_rows(self, until: int, columns: Iterable[int]) -> None:
        """Empty rows up to row ``until`` (1-based) whose ``columns`` are formatted as text: an ID
        number or mobile typed later into a "General" cell would become a number and lose digits."""
        text = self.formats["text"]
        columns = list(columns)
        while self.row < until:
            for col in columns:
                self.sheet.write_blank(self.row, col, None, text)
            self.row += 1

    def choose_from(self, column: int, last_row: int, source: str, *, title: str, error: str) -> None:
        """A drop-down on ``column`` from the first data row to ``last_row`` (1-based), its options
        in the cells a formula ``source`` names; anything else typed is refused with ``error``."""
        self.sheet.data_validation(
            self.row,
            column,
            last_row - 1,
            column,
            {
                "validate": "list",
                "source": source,
                "ignore_blank": True,
                "error_title": title,
                "error_message": error,
            },
        )

    def hide(self) -> None:
        self.sheet.hide()


def new_workbook() -> Workbook:
    return Workbook()


def xlsx_response(workbook: Workbook, filename: str) -> FileResponse:
    """Finish the workbook and stream its file (deleted when the response is closed).

    ``filename`` is Chinese, e.g. 访调对接台账_2026-11-25.xlsx; browsers get it through RFC 6266's
    ``filename*`` and old clients an ASCII fallback.
    """
    response = FileResponse(workbook.close(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response


def dated_filename(stem: str) -> str:
    return f"{stem}_{timezone.localdate().isoformat()}.xlsx"
