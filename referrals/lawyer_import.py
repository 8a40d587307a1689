"""A petition office's lawyers' roster imported from a spreadsheet (xlsx, xls, ods or csv), as the
mediators' roster is: the whole file or nothing.

The file is read with the same guarded reader as the mediators' roster (``lib/spreadsheets``: size,
zip-bomb and macro checks before parsing). The header is found among the first rows by its column
names — 姓名 and 执业机构 (or 律师事务所) are required; 类别 (律师 / 法律顾问, empty: 律师), 执业证号 and
手机号码 are read when present. Each row is checked by the roster's own rule
(``lawyers.check_lawyer``); every mistake is named with its row and column, and then nothing is
written. A lawyer already on the roster (the same name and firm, in the roster) is left as is, so
importing the same file twice adds nobody twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.spreadsheets import FileLimits, ImportRefused, SpreadsheetFile, cell_text, guarded, inspect_file, is_blank
from referrals.bureau import Lawyer
from referrals.errors import InvalidInput
from referrals.lawyers import check_lawyer, require_keeper
from townships.models import Organisation

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

# A roster of a petition office is tens of people: a small file, read within the request.
LIMITS = FileLimits(max_bytes=2 * 1024 * 1024, max_uncompressed=40 * 1024 * 1024, max_columns=30)
MAX_ROWS = 1_000
HEADER_ROWS = 10
MAX_LISTED = 50
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "律师姓名"),
    "kind": ("类别", "人员类别"),
    "firm": ("执业机构", "律师事务所", "工作单位"),
    "licence_no": ("执业证号", "律师执业证号"),
    "mobile": ("手机号码", "手机", "联系电话"),
}
LABELS = {
    "name": gettext_lazy("姓名"),
    "kind": gettext_lazy("类别"),
    "firm": gettext_lazy("执业机构"),
    "licence_no": gettext_lazy("执业证号"),
    "mobile": gettext_lazy("手机号码"),
}
KINDS = {"": Lawyer.Kind.LAWYER, **{str(label): value for value, label in Lawyer.Kind.choices}}


@dataclass(frozen=True)
class Result:
    added: int
    unchanged: int


def _header(rows: Iterator[tuple[int, Sequence[object]]]) -> tuple[int, dict[str, int]]:
    for number, values in rows:
        if number > HEADER_ROWS:
            break
        titles = ["".join(cell_text(v).split()) for v in values]
        found = {key: titles.index(name) for key, names in COLUMNS.items() for name in names if name in titles}
        if "name" in found and "firm" in found:
            return number, found
    raise ImportRefused(
        _("在表格前%d行中没有找到表头：表头应有“姓名”和“执业机构”两列，可另有“类别”“执业证号”“手机号码”。")
        % HEADER_ROWS,
        code="no_header",
    )


def read_rows(upload: UploadedFile[bytes]) -> list[tuple[int, dict[str, str]]]:
    """The data rows as ``(row number, {column: text})``; ``InvalidInput`` on ``file`` for a file that
    cannot be read, has no header, or is too long."""
    name = upload.name or ""
    size = upload.size or 0
    try:
        info = inspect_file(upload, name, size, LIMITS)
        book = SpreadsheetFile(upload, info, size, LIMITS)
        try:
            sheet, (header_row, columns) = book.first_sheet_with(_header, retry_codes=("no_header",))
            rows: list[tuple[int, dict[str, str]]] = []
            for number, values in guarded(sheet.rows(width=LIMITS.max_columns)):
                if number <= header_row or is_blank(values):
                    continue
                if len(rows) == MAX_ROWS:
                    raise ImportRefused(_("名册不能超过%d行。") % MAX_ROWS, code="too_many_rows")
                texts = [cell_text(v) for v in values]
                rows.append((number, {k: texts[i] if i < len(texts) else "" for k, i in columns.items()}))
        finally:
            book.close()
    except ImportRefused as exc:
        raise InvalidInput({"file": [exc.message]}) from None
    return rows


def import_lawyers(*, by: Any, office: Organisation, upload: UploadedFile[bytes]) -> Result:
    """Put every lawyer of the file on the office's roster, or, naming each mistake, none."""
    require_keeper(by, office.pk)
    rows = read_rows(upload)
    problems: list[str] = []
    if not rows:
        problems.append(_("表格中没有律师。"))
    on_roster = set(Lawyer.objects.filter(office=office, active=True).values_list("name", "firm"))
    first_row: dict[tuple[str, str], int] = {}
    new: list[dict[str, Any]] = []
    unchanged = 0
    for number, values in rows:
        kind = KINDS.get(values.get("kind", "").strip())
        try:
            clean = check_lawyer(
                name=values["name"],
                kind=kind or "?",
                firm=values["firm"],
                licence_no=values.get("licence_no", ""),
                mobile=values.get("mobile", ""),
            )
        except InvalidInput as exc:
            for key, messages in exc.errors.items():
                problems += [
                    _("第%(row)d行 %(column)s：%(message)s") % {"row": number, "column": LABELS[key], "message": m}
                    for m in messages
                ]
            continue
        twin: tuple[str, str] = (clean["name"], clean["firm"])
        if twin in first_row:
            problems.append(_("第%(row)d行：与第%(first)d行重复。") % {"row": number, "first": first_row[twin]})
        elif twin in on_roster:
            unchanged += 1
        else:
            new.append(clean)
        first_row.setdefault(twin, number)
    if problems:
        more = len(problems) - MAX_LISTED
        listed = problems[:MAX_LISTED] + ([_("……另有%d处错误。") % more] if more > 0 else [])
        raise InvalidInput({"file": [_("名册未导入，请改正后重新上传："), *listed]})
    with transaction.atomic():
        for clean in new:
            Lawyer.objects.create(office=office, added_by=by, **clean)
    return Result(added=len(new), unchanged=unchanged)
