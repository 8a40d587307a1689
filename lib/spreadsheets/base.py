"""What every part of the reader shares: the limits of an upload, and the refusals with their messages."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

# Files are read in pieces of this size by every pre-scan.
SCAN_CHUNK = 1024 * 1024
# Text between two tags longer than this is not a cell Excel writes (32,767 characters at most).
MAX_TEXT_RUN = 1024 * 1024


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
    # What calamine may hold of a sheet (the pre-scans' estimate); a larger xlsx is streamed by
    # openpyxl, a larger xls or ods refused. A 20,000-row roster is estimated at about 40 MB, the
    # 50,000-row limit near 100 MB.
    max_in_memory_mb: int = 128


class ImportRefused(Exception):
    """The file as a whole cannot be read; nothing was written. ``message`` is for the user."""

    def __init__(self, message: str, *, code: str) -> None:
        self.message = str(message)
        self.code = code
        super().__init__(self.message)


def corrupt() -> ImportRefused:
    return ImportRefused(_("文件已损坏，无法打开。"), code="corrupt_file")


def unsafe() -> ImportRefused:
    # OOXML forbids DTDs (ECMA-376 Part 2, §8.1.4) and ODF uses none: a DTD is an entity bomb or an XXE.
    return ImportRefused(_("文件含有不安全的内容（XML 实体），已拒绝。"), code="unsafe_content")


def too_large(estimate: int, lim: FileLimits) -> ImportRefused:
    return ImportRefused(
        _(
            "表格的使用范围异常庞大（读取约需 %(mb).0f MB 内存，上限 %(max)d MB），"
            "可能含有远处的单元格或大量重复的行列，已拒绝。请删除多余的行列，或拆分文件后再导入。"
        )
        % {"mb": estimate / 1024 / 1024, "max": lim.max_in_memory_mb},
        code="too_many_rows",
    )
