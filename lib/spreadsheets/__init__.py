"""Spreadsheets people upload and download: safe reading (``read``) and formula-safe writing (``write``).

Generic: nothing here knows rosters, referrals or any model. The roster importer
(``townships/roster_import/``) reads with it; the ledger, statistics and roster exports write with it.
"""

from __future__ import annotations

from lib.spreadsheets.base import FileLimits, ImportRefused
from lib.spreadsheets.read import (
    FileInfo,
    Sheet,
    SpreadsheetFile,
    cell_text,
    detect_encoding,
    extension,
    guarded,
    inspect_file,
    is_blank,
    parser_failure,
    rounded_by_excel,
)
from lib.spreadsheets.write import (
    XLSX,
    Column,
    SheetWriter,
    Workbook,
    dated_filename,
    new_workbook,
    safe_value,
    xlsx_response,
)

__all__ = [
    "XLSX",
    "Column",
    "FileInfo",
    "FileLimits",
    "ImportRefused",
    "Sheet",
    "SheetWriter",
    "SpreadsheetFile",
    "Workbook",
    "cell_text",
    "dated_filename",
    "detect_encoding",
    "extension",
    "guarded",
    "inspect_file",
    "is_blank",
    "new_workbook",
    "parser_failure",
    "rounded_by_excel",
    "safe_value",
    "xlsx_response",
]
