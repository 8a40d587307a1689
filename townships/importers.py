"""Roster import (花名册导入): the spreadsheets township offices really keep, checked row by row.

The path of one file:

1. ``townships/spreadsheets.py`` judges the file by its bytes (xlsx, xls, ods, or CSV in UTF-8 with
   or without BOM, UTF-16, GBK/GB18030), refuses oversized files, zip bombs, macro-enabled and
   encrypted ones (and an xlsx with a DTD) with a Chinese message before any parser runs, and
   hands out the rows with the row numbers Excel shows (python-calamine for xls, ods and the xlsx
   spreadsheet programs write; openpyxl read-only for an xlsx calamine should not hold in memory).
2. ``find_header`` looks for the header row among the first rows (a merged title row such as
   "XX镇人民调解员花名册" often comes first) and maps Chinese column names and their variants.
3. ``RosterImporter`` validates every row with the shared validators (``townships/validators.py``),
   resolves the committee in memory (township under its county, by code or by name with or without
   its suffix — never by name alone, there are two 白沙), upserts by (committee, ID number) in
   batches, and with "replace" deactivates the absent. A dry run writes nothing; an apply writes
   every row or none (one transaction, rolled back at the first error while validation goes on, so
   that the report still lists every mistake).
4. ``start_roster_import`` / ``execute_roster_import`` record the batch (``RosterImport``: who,
   when, file hash, counts, errors) and run it in the request or, for a large file, as a task.

Memory is bounded: the reader holds at most ``Limits.max_in_memory_mb`` of a sheet (calamine) or
streams it (openpyxl, CSV); rows are validated one by one and written in batches; what is kept per
row is a key for the duplicate check (committee, ID number → row number).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from townships.categories import Category
from townships.models import Mediator, Organisation, Region, RosterImport, strip_township_suffix
from townships.roles import roster_scope
from townships.spreadsheets import (
    FileLimits,
    ImportRefused,
    Sheet,
    SpreadsheetFile,
    cell_text,
    extension,
    guarded,
    inspect_file,
    is_blank,
)
from townships.validators import clean_text, sex_from_id_number, to_halfwidth, validate_id_number, validate_mobile

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# --- Limits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits(FileLimits):
    """What a roster file may be. Defaults fit a city-wide roster (about 8,500 people) with room.

    Override with ``settings.ROSTER_IMPORT`` (a dict with these names).
    """

    max_rows: int = 50_000
    # Files up to this size are imported during the request; larger ones run as a task.
    inline_max_bytes: int = 256 * 1024
    progress_every: int = 500
    batch_size: int = 2_000
    max_stored_errors: int = 2_000


def limits() -> Limits:
    return Limits(**getattr(settings, "ROSTER_IMPORT", {}))


HEADER_SCAN_ROWS = 10
HEADER_PROBLEMS = ("no_header", "missing_columns")

# --- Columns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header the template uses
    aliases: tuple[str, ...]  # normalised (see ``normalise_header``), most specific first


COLUMNS: tuple[Column, ...] = (
    Column(
        "county", "县(市、区)", ("县市区", "区县", "县区", "所属县市区", "所属区县", "县市区名称", "区县名称", "县")
    ),
    Column(
        "township",
        "镇(街)",
        ("镇街", "乡镇街道", "镇街道", "乡镇", "街镇", "所属镇街", "镇街名称", "乡镇街道名称", "镇", "街道"),
    ),
    Column(
        "committee",
        "调委会名称",
        ("调委会名称", "调委会", "人民调解委员会名称", "人民调解委员会", "所属调委会", "调解委员会"),
    ),
    Column("name", "姓名", ("姓名", "调解员姓名", "人民调解员姓名")),
    Column("sex", "性别", ("性别",)),
    Column("id_number", "身份证号码", ("身份证号码", "身份证号", "公民身份号码", "身份证", "身份号码")),
    Column("mobile", "手机号码", ("手机号码", "手机", "手机号", "移动电话", "联系电话", "电话", "联系方式")),
    Column("position", "职务", ("职务", "调委会职务")),
    Column("employment", "专兼职", ("专兼职", "专职兼职", "专职或兼职")),
    Column("specialities", "擅长领域", ("擅长领域", "擅长", "专长", "擅长调解领域", "擅长纠纷类型", "特长")),
    Column("note", "备注", ("备注",)),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED_COLUMNS = ("name", "id_number", "mobile")

_HEADER_PUNCTUATION = re.compile(r"[\s*＊:：()（）\[\]【】、,，/／\\·.。_\-—]+")
_PARENTHESISED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def normalise_header(value: object) -> tuple[str, str]:
    """A header cell as (all punctuation removed, parenthesised remarks removed).

    县(市、区) → 县市区; 专/兼职 → 专兼职; 身份证号码（18位） → 身份证号码 (second form).
    """
    text = to_halfwidth(clean_text(value))
    return _HEADER_PUNCTUATION.sub("", text), _HEADER_PUNCTUATION.sub("", _PARENTHESISED.sub("", text))


def match_column(value: object) -> tuple[str, int] | None:
    """The column a header cell names and how specific the match is (lower is better)."""
    full, bare = normalise_header(value)
    if not full:
        return None
    for column in COLUMNS:
        for rank, alias in enumerate(column.aliases):
            if full == alias or bare == alias:
                return column.key, rank
    return None


@dataclass
class Header:
    row: int  # as Excel shows it
    columns: dict[str, int]  # field key → 0-based index
    titles: list[str]  # the header cells as written

    def title(self, key: str) -> str:
        index = self.columns.get(key)
        if index is None or index >= len(self.titles) or not self.titles[index]:
            return str(COLUMN_BY_KEY[key].label)
        return self.titles[index]

    def letter(self, key: str) -> str:
        from openpyxl.utils import get_column_letter

        index = self.columns.get(key)
        return get_column_letter(index + 1) if index is not None else ""

    @property
    def width(self) -> int:
        return max(self.columns.values()) + 1


def header_from_row(row_number: int, values: Sequence[object]) -> Header | None:
    best: dict[str, tuple[int, int]] = {}
    for index, value in enumerate(values):
        found = match_column(value)
        if found is None:
            continue
        key, rank = found
        # Two columns for one field ("手机" and "联系电话"): the more specific name wins, then the leftmost.
        if key not in best or rank < best[key][0]:
            best[key] = (rank, index)
    if "name" not in best or "id_number" not in best or len(best) < 3:
        return None
    titles = [clean_text(v) for v in values]
    while titles and not titles[-1]:
        titles.pop()
    return Header(row=row_number, columns={k: i for k, (_r, i) in best.items()}, titles=titles)


def find_header(rows: Iterator[tuple[int, Sequence[object]]]) -> Header:
    """The row among the first ``HEADER_SCAN_ROWS`` that names the most known columns."""
    best: Header | None = None
    for row_number, values in rows:
        if row_number > HEADER_SCAN_ROWS:
            break
        header = header_from_row(row_number, values)
        if header is not None and (best is None or len(header.columns) > len(best.columns)):
            best = header
    if best is None:
        expected = "、".join(str(COLUMN_BY_KEY[k].label) for k in ("county", "township", *REQUIRED_COLUMNS))
        raise ImportRefused(
            _("在表格前%(n)d行中没有找到表头。表头应包含这些列名：%(cols)s（可下载导入模板对照）。")
            % {"n": HEADER_SCAN_ROWS, "cols": expected},
            code="no_header",
        )
    missing = [k for k in REQUIRED_COLUMNS if k not in best.columns]
    if missing:
        names = "、".join(str(COLUMN_BY_KEY[k].label) for k in missing)
        raise ImportRefused(_("表头缺少必需的列：%s。") % names, code="missing_columns")
    return best


# Roster files are written in Chinese whatever language the uploader reads the site in: the
# values a cell may hold are the Chinese labels (the messages about them are in the user's language).
ROSTER_LANGUAGE = "zh-hans"
SEX_VALUES = {"男": "M", "男性": "M", "M": "M", "女": "F", "女性": "F", "F": "F"}
with translation.override(ROSTER_LANGUAGE):
    POSITION_VALUES = {str(label): value for value, label in Mediator.Position.choices} | {"人民调解员": "mediator"}
    EMPLOYMENT_VALUES = {str(label): value for value, label in Mediator.Employment.choices} | {
        "专": "full_time",
        "兼": "part_time",
    }
_SPECIALITY_SYNONYMS = {
    "婚姻": "marriage_family",
    "家庭": "marriage_family",
    "婚姻家庭纠纷": "marriage_family",
    "邻里关系": "neighbour",
    "房屋": "housing_homestead",
    "宅基地": "housing_homestead",
    "劳动": "labour",
    "劳资": "labour",
    "劳资纠纷": "labour",
    "欠薪": "labour",
    "医患": "medical",
    "医患纠纷": "medical",
    "交通事故": "traffic",
    "交通": "traffic",
    "物业管理": "property_management",
    "征地": "land_requisition",
    "拆迁": "land_requisition",
    "土地": "forest_land",
    "山林": "forest_land",
    "环境": "pollution",
    "消费者": "consumer",
    "损害": "damages",
    "人身损害": "damages",
    "经营": "business",
}
_SPLIT_LIST = re.compile(r"[、,，;；/／\s]+")
_POSITION_PREFIX = re.compile(r"^(人民调解委员会|调解委员会|调委会)")


def speciality_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    with translation.override(ROSTER_LANGUAGE):
        for value, label in Category.choices:
            table[value] = value
            table[str(label)] = value
            table[f"{label}纠纷"] = value
    return table | _SPECIALITY_SYNONYMS


# --- Regions and committees in memory ----------------------------------------------------------


@dataclass
class CommitteeRef:
    """A committee as the importer sees it; ``pk`` is None for a township committee still to create."""

    pk: int | None
    name: str
    region_code: str
    active: bool = True
    township_code: str = ""
    # Fixed when the ref is made: a committee created halfway through an apply keeps its identity.
    ident: str = ""

    def __post_init__(self) -> None:
        self.ident = self.ident or (f"pk:{self.pk}" if self.pk is not None else f"new:{self.township_code}")

    @property
    def is_new(self) -> bool:
        return self.ident.startswith("new:")


@dataclass
class Place:
    code: str
    name: str
    short: str
    pk: int


SUFFIX_ALIASES = {"街": "街道", "街道办事处": "街道"}
_COMMITTEE_SUFFIX = re.compile(r"(人民调解委员会|调解委员会|调委会)$")


def committee_core(name: str) -> str:
    """环市街道人民调解委员会 → 环市街道; 北郊社区调委会 → 北郊社区."""
    return _COMMITTEE_SUFFIX.sub("", to_halfwidth(clean_text(name)).replace(" ", ""))


class Directory:
    """Counties, townships and committees, read once (two queries) and looked up without queries."""

    def __init__(self) -> None:
        self.counties: dict[str, Place] = {}
        self.county_names: dict[str, Place] = {}
        self.townships: dict[str, Place] = {}
        self.townships_in: dict[str, dict[str, list[Place]]] = {}
        for pk, code, name, level in Region.objects.filter(
            level__in=(Region.Level.COUNTY, Region.Level.TOWNSHIP)
        ).values_list("pk", "code", "name", "level"):
            if level == Region.Level.COUNTY:
                place = Place(code, name, re.sub(r"(区|市|县)$", "", name) if len(name) > 2 else name, pk)
                self.counties[code] = place
                self.county_names[name] = place
                self.county_names[place.short] = place
            else:
                place = Place(code, name, strip_township_suffix(name), pk)
                self.townships[code] = place
                names = self.townships_in.setdefault(code[:6], {})
                for key in {name, place.short}:
                    names.setdefault(key, []).append(place)
        self.committees_by_region: dict[str, list[CommitteeRef]] = {}
        self.township_committee: dict[str, CommitteeRef] = {}
        rows = Organisation.objects.filter(kind=Organisation.Kind.MEDIATION_COMMITTEE).values_list(
            "pk", "name", "region__code", "committee_type", "active"
        )
        for pk, name, code, committee_type, active in rows:
            ref = CommitteeRef(pk=pk, name=name, region_code=code, active=active, township_code=code[:9])
            self.committees_by_region.setdefault(code, []).append(ref)
            if len(code) == 9 and code in self.townships:
                standard = f"{self.townships[code].name}人民调解委员会"
                current = self.township_committee.get(code)
                if committee_type == Organisation.CommitteeType.TOWNSHIP and (current is None or name == standard):
                    self.township_committee[code] = ref

    # Counties ---------------------------------------------------------------------------------

    def county(self, value: str) -> Place | None:
        text = to_halfwidth(value).replace(" ", "")
        if text.isdigit():
            code = text[:6] if len(text) == 12 and text.endswith("000000") else text
            return self.counties.get(code)
        for prefix in ("广东省", "江门市"):
            text = text.removeprefix(prefix)
        return self.county_names.get(text)

    # Townships --------------------------------------------------------------------------------

    def township(self, county: Place | None, value: str) -> tuple[Place | None, str]:
        """The township named ``value`` under ``county``; or None and the reason in Chinese."""
        text = to_halfwidth(value).replace(" ", "")
        if text.isdigit():
            code = text[:9] if len(text) == 12 and text.endswith("000") else text
            if len(code) == 3 and county is not None:
                code = county.code + code
            place = self.townships.get(code)
            if place is None:
                return None, _("没有区划代码为 %s 的镇(街)。") % text
            if county is not None and not code.startswith(county.code):
                return None, _("镇(街)代码 %(code)s 不属于%(county)s。") % {"code": text, "county": county.name}
            return place, ""
        if county is None:
            # "台山市白沙镇" carries its county; a bare "白沙" does not (蓬江区 and 台山市 both have one).
            for candidate in self.counties.values():
                for prefix in (candidate.name, candidate.short):
                    if text.startswith(prefix) and len(text) > len(prefix):
                        place, _reason = self.township(candidate, text[len(prefix) :])
                        if place is not None:
                            return place, ""
            return None, _("请填写县(市、区)：同名的镇(街)（如蓬江区白沙街道与台山市白沙镇）要靠它区分。")
        names = self.townships_in.get(county.code, {})
        # "蓬江区环市街道" carries its county again; strip it only when what is left is a township.
        for candidate in dict.fromkeys([text, self._without_places(text, county)]):
            found = self._township_named(names, candidate)
            if found is not None:
                return found, ""
        return None, _("%(county)s下没有名为“%(name)s”的镇(街)。") % {"county": county.name, "name": value}

    @staticmethod
    def _township_named(names: dict[str, list[Place]], text: str) -> Place | None:
        if len(names.get(text) or []) == 1:
            return names[text][0]
        short = strip_township_suffix(text)
        if short == text:
            return None
        # A suffix was written: it must be the township's own (环市街 or 环市街道办事处 for 环市街道 is
        # fine; 白沙镇 is not 蓬江区的白沙街道 — more likely 台山市白沙镇 with the wrong county).
        written = SUFFIX_ALIASES.get(text[len(short) :], text[len(short) :])
        candidates = [p for p in names.get(short) or [] if p.name.endswith(written)]
        return candidates[0] if len(candidates) == 1 else None

    # Committees -------------------------------------------------------------------------------

    def committee(self, county: Place | None, township: Place | None, name: str) -> tuple[CommitteeRef | None, str]:
        if township is not None:
            if not name or strip_township_suffix(self._without_places(committee_core(name), county)) in (
                township.short,
                "",
            ):
                ref = self.township_committee.get(township.code)
                if ref is None:
                    ref = CommitteeRef(
                        pk=None,
                        name=f"{township.name}人民调解委员会",
                        region_code=township.code,
                        township_code=township.code,
                    )
                    self.township_committee[township.code] = ref
                return ref, ""
            scope = township.code
        elif county is not None and name:
            scope = county.code
        else:
            return None, ""
        core = committee_core(name)
        found = [
            ref
            for code, refs in self.committees_by_region.items()
            if code.startswith(scope)
            for ref in refs
            if ref.name == name or committee_core(ref.name) == core
        ]
        if len(found) == 1:
            return found[0], ""
        where = township.name if township is not None else county.name if county is not None else ""
        if not found:
            return None, _(
                "%(where)s没有名为“%(name)s”的调委会。只有镇(街)调委会会自动建立，村(居)和行业性专业性调委会请先由管理员登记。"
            ) % {"where": where, "name": name}
        return None, _("%(where)s有多个名为“%(name)s”的调委会，请填写完整名称。") % {"where": where, "name": name}

    def _without_places(self, core: str, county: Place | None) -> str:
        for prefix in ("广东省", "江门市", *((county.name, county.short) if county else ())):
            if core.startswith(prefix) and len(core) > len(prefix):
                core = core[len(prefix) :]
        return core


# --- The importer ------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int | None
    column: str
    message: str
    letter: str = ""
    code: str = "invalid"  # "forbidden": a roster the user may not manage

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "letter": self.letter,
            "message": self.message,
            "code": self.code,
        }


@dataclass
class Report:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    committees: dict[str, dict] = field(default_factory=dict)
    sheet_name: str = ""
    header_row: int | None = None
    file_format: str = ""
    encoding: str = ""

    def committee_list(self) -> list[dict]:
        return sorted(self.committees.values(), key=lambda c: (c["region_code"], c["name"]))


# The fields compared and written, in this order (``Mediator`` fields).
VALUE_FIELDS = ("name", "sex", "mobile", "position", "employment", "specialities", "note", "active")
DEFAULTS = {
    "position": Mediator.Position.MEDIATOR,
    "employment": Mediator.Employment.PART_TIME,
    "specialities": [],
    "note": "",
}


@dataclass
class Candidate:
    """One valid row waiting for its batch: the committee, the ID number and the new values."""

    row: int
    committee: CommitteeRef
    id_number: str
    values: dict[str, object]


class RosterImporter:
    """Validate a roster file and (unless a dry run) upsert it, all rows or none.

    ``user`` must be allowed to manage every roster the file touches (``townships.roles``); a row
    for another region's committee is an error of that row. ``default_committee`` receives the rows
    of a file without county/township columns (a single committee's own list).
    """

    def __init__(
        self,
        *,
        user,
        dry_run: bool = True,
        replace: bool = False,
        default_committee: Organisation | None = None,
        progress: Progress | None = None,
        lim: Limits | None = None,
    ) -> None:
        self.user = user
        self.dry_run = dry_run
        self.replace = replace
        self.default_committee = default_committee
        self.progress = progress
        self.lim = lim or limits()
        self.report = Report()
        self.directory = Directory()
        self.specialities = speciality_lookup()
        self.scope = roster_scope(user)
        # "committee ident␟ID number" → first row: duplicates in the file, and who is present (for
        # replace). The only thing kept per row; existing entries are read batch by batch.
        self.seen: dict[str, int] = {}
        self.locked: set[int] = set()
        self.covered: set[int] = set()  # existing committees the file has rows for
        self.places: dict[tuple[str, str, str], tuple] = {}
        self.pending: list[Candidate] = []
        self.writing = not dry_run
        self.now = timezone.now()
        self.default_ref = (
            CommitteeRef(
                pk=default_committee.pk,
                name=default_committee.name,
                region_code=default_committee.region.code,
                active=default_committee.active,
                township_code=default_committee.region.code[:9],
            )
            if default_committee is not None
            else None
        )

    # The run ----------------------------------------------------------------------------------

    def run(self, handle: IO[bytes], name: str, size: int | None = None) -> Report:
        if size is None:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(0)
        info = inspect_file(handle, name, size, self.lim)
        self.report.file_format = info.format
        self.report.encoding = info.encoding
        book = SpreadsheetFile(handle, info, size, self.lim)
        try:
            sheet, header = book.first_sheet_with(find_header, retry_codes=HEADER_PROBLEMS)
            self.report.sheet_name = sheet.name
            self.report.header_row = header.row
            if "township" not in header.columns and "committee" not in header.columns and not self.default_committee:
                raise ImportRefused(
                    _(
                        "表中没有“镇(街)”列，无法确定调解员属于哪个调委会。请增加“县(市、区)”和“镇(街)”两列，"
                        "或在导入时选择调委会。"
                    ),
                    code="missing_columns",
                )
            if self.dry_run:
                self._rows(sheet, header)
            else:
                with transaction.atomic():
                    self._rows(sheet, header)
                    if self.report.error_count:
                        transaction.set_rollback(True)
        finally:
            book.close()
        return self.report

    def _rows(self, sheet: Sheet, header: Header) -> None:
        width = min(header.width, self.lim.max_columns)
        estimated = max(sheet.estimated_rows - header.row, 1)
        scan_limit = self.lim.max_rows * 2 + HEADER_SCAN_ROWS
        for number, values in guarded(sheet.rows(width=width)):
            if number <= header.row:
                continue
            if number > scan_limit:
                raise ImportRefused(
                    _("表格超过 %d 行，已拒绝。请删除多余的空行或拆分文件。") % scan_limit, code="too_many_rows"
                )
            if is_blank(values):
                continue
            self.report.total_rows += 1
            if self.report.total_rows > self.lim.max_rows:
                raise ImportRefused(
                    _("数据超过 %d 行的上限，请拆分文件后分批导入。") % self.lim.max_rows, code="too_many_rows"
                )
            candidate = self._validate(number, values, header)
            if candidate is not None:
                self.pending.append(candidate)
                if len(self.pending) >= self.lim.batch_size:
                    self._flush()
            if self.progress and self.report.total_rows % self.lim.progress_every == 0:
                self.progress(self.report.total_rows, max(estimated, self.report.total_rows))
        self._flush()
        if self.replace:
            self._deactivate_absent()
        if self.progress:
            self.progress(self.report.total_rows, self.report.total_rows)

    # One row ----------------------------------------------------------------------------------

    def _error(self, row: int | None, header: Header | None, key: str, message: str, code: str = "invalid") -> None:
        self.report.error_count += 1
        if self.writing:
            # Stop writing at the first mistake: the transaction will be rolled back anyway.
            self.writing = False
        if len(self.report.errors) < self.lim.max_stored_errors:
            column = header.title(key) if header else str(COLUMN_BY_KEY[key].label)
            self.report.errors.append(
                RowError(
                    row=row, column=column, message=str(message), letter=header.letter(key) if header else "", code=code
                )
            )

    def _validate(self, number: int, values: Sequence[object], header: Header) -> Candidate | None:
        def get(key: str) -> object:
            index = header.columns.get(key)
            return values[index] if index is not None and index < len(values) else None

        errors_before = self.report.error_count
        present = header.columns
        out: dict[str, object] = {}

        name = cell_text(get("name"))
        if not name:
            self._error(number, header, "name", _("姓名不能为空。"))
        elif len(name) > 50:
            self._error(number, header, "name", _("姓名不能超过50个字。"))
        elif "示例" in name:
            self._error(number, header, "name", _("这是导入模板中的示例行，请删除后再导入。"))
        out["name"] = name

        raw_id = get("id_number")
        id_number = ""
        try:
            id_number = validate_id_number(cell_text(raw_id))
        except ValidationError as exc:
            if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
                message = _(
                    "身份证号被存成了数字，Excel 只保留15位有效数字，后几位已丢失。请把该列设为“文本”格式后重新填写。"
                )
            elif not cell_text(raw_id):
                message = _("身份证号不能为空。")
            else:
                message = exc.messages[0]
            self._error(number, header, "id_number", message)

        sex_text = cell_text(get("sex")).upper() if "sex" in present else ""
        if sex_text:
            sex = SEX_VALUES.get(sex_text)
            if sex is None:
                self._error(number, header, "sex", _("性别应填“男”或“女”。"))
            elif id_number and sex != sex_from_id_number(id_number):
                self._error(
                    number,
                    header,
                    "sex",
                    _("性别“%(sex)s”与身份证号不一致（按身份证号应为%(expected)s）。")
                    % {"sex": sex_text, "expected": _("男") if sex_from_id_number(id_number) == "M" else _("女")},
                )
            out["sex"] = sex
        elif id_number:
            # Not given: the ID number says it (GB 11643, the 17th digit).
            out["sex"] = sex_from_id_number(id_number)

        try:
            out["mobile"] = validate_mobile(cell_text(get("mobile")))
        except ValidationError as exc:
            message = exc.messages[0] if cell_text(get("mobile")) else _("手机号码不能为空。")
            self._error(number, header, "mobile", message)

        if "position" in present:
            text = _POSITION_PREFIX.sub("", cell_text(get("position")).replace(" ", ""))
            position = POSITION_VALUES.get(text)
            if position is None:
                labels = "、".join(str(label) for _v, label in Mediator.Position.choices)
                if text:
                    message = _("职务“%(value)s”不在可选范围内，应为：%(labels)s。") % {"value": text, "labels": labels}
                else:
                    message = _("职务不能为空，应为：%s。") % labels
                self._error(number, header, "position", message)
            out["position"] = position
        if "employment" in present:
            text = cell_text(get("employment")).replace(" ", "")
            employment = EMPLOYMENT_VALUES.get(text)
            if employment is None:
                self._error(
                    number,
                    header,
                    "employment",
                    _("专兼职不能为空，应为“专职”或“兼职”。")
                    if not text
                    else _("专兼职应为“专职”或“兼职”，不能是“%s”。") % text,
                )
            out["employment"] = employment
        if "specialities" in present:
            codes: list[str] = []
            unknown: list[str] = []
            for part in _SPLIT_LIST.split(to_halfwidth(cell_text(get("specialities")))):
                if not part:
                    continue
                code = self.specialities.get(part)
                if code is None:
                    unknown.append(part)
                elif code not in codes:
                    codes.append(code)
            if unknown:
                labels = "、".join(str(label) for _v, label in Category.choices)
                self._error(
                    number,
                    header,
                    "specialities",
                    _("擅长领域“%(unknown)s”不在纠纷类别中，可填：%(labels)s（多个用顿号分隔）。")
                    % {"unknown": "、".join(unknown), "labels": labels},
                )
            out["specialities"] = codes
        if "note" in present:
            note = cell_text(get("note"))
            if len(note) > 200:
                self._error(number, header, "note", _("备注不能超过200个字。"))
            out["note"] = note

        committee = self._committee(number, header, get)
        if committee is not None and id_number:
            key = f"{committee.ident}\x1f{id_number}"
            first = self.seen.get(key)
            if first is not None:
                self._error(
                    number,
                    header,
                    "id_number",
                    _("与第%(row)d行重复：同一调委会中同一身份证号只能出现一次。") % {"row": first},
                )
            else:
                self.seen[key] = number
        if self.report.error_count > errors_before or committee is None:
            return None
        out["active"] = True
        return Candidate(row=number, committee=committee, id_number=id_number, values=out)

    def _committee(self, number: int, header: Header, get: Callable[[str], object]) -> CommitteeRef | None:
        texts = (cell_text(get("county")), cell_text(get("township")), to_halfwidth(cell_text(get("committee"))))
        # A roster repeats the same few places thousands of times: resolve each combination once.
        resolved = self.places.get(texts)
        if resolved is None:
            resolved = self.places[texts] = self._resolve(*texts)
        ref, problem = resolved
        if problem is not None:
            key, message, code = problem
            self._error(number, header, key, message, code)
        return ref

    def _resolve(
        self, county_text: str, township_text: str, committee_text: str
    ) -> tuple[CommitteeRef | None, tuple[str, str, str] | None]:
        """The committee a row names, or (column, message, code) of what is wrong."""
        if not county_text and not township_text and not committee_text:
            if self.default_ref is not None:
                return self._allowed("township", self.default_ref)
            return None, ("township", _("请填写县(市、区)和镇(街)。"), "invalid")
        county = None
        if county_text:
            county = self.directory.county(county_text)
            if county is None:
                return None, ("county", _("江门市没有名为“%s”的县(市、区)。") % county_text, "invalid")
        township = None
        if township_text:
            township, reason = self.directory.township(county, township_text)
            if township is None:
                return None, ("county" if county is None else "township", reason, "invalid")
            if county is None:
                county = self.directory.counties.get(township.code[:6])
        elif not committee_text or county is None:
            return None, ("township", _("请填写镇(街)。"), "invalid")
        ref, reason = self.directory.committee(county, township, committee_text)
        if ref is None:
            return None, ("committee", reason or _("请填写镇(街)或调委会名称。"), "invalid")
        if not ref.active:
            return None, ("committee", _("调委会“%s”已停用，不能导入调解员。") % ref.name, "invalid")
        return self._allowed("committee" if committee_text else "township", ref)

    def _allowed(self, key: str, ref: CommitteeRef) -> tuple[CommitteeRef | None, tuple[str, str, str] | None]:
        if self.scope is not None and not any(ref.region_code.startswith(code) for code in self.scope):
            return None, (key, _("您无权维护“%s”的花名册。") % ref.name, "forbidden")
        return ref, None

    # Batches ----------------------------------------------------------------------------------

    def _existing(self, batch: list[Candidate]) -> dict[tuple[int, str], tuple]:
        """The batch's people already on their rosters: one query per batch, whatever the committees.

        Returns (committee pk, ID number) → (pk, *VALUE_FIELDS).
        """
        committee_ids = {c.committee.pk for c in batch if c.committee.pk is not None}
        if not committee_ids:
            return {}
        new = committee_ids - self.locked
        if self.writing and new:
            # Two imports of the same roster at once would both try to create the same people.
            list(Organisation.objects.select_for_update().filter(pk__in=new).values_list("pk", flat=True))
            self.locked |= new
        rows = Mediator.objects.filter(
            committee_id__in=committee_ids, id_number__in={c.id_number for c in batch}
        ).values_list("pk", "committee_id", "id_number", *VALUE_FIELDS)
        return {(committee_id, id_number): (pk, *values) for pk, committee_id, id_number, *values in rows}

    def _create_committee(self, ref: CommitteeRef) -> None:
        township = self.directory.townships[ref.township_code]
        office = (
            Organisation.objects.filter(region_id=township.pk, kind=Organisation.Kind.JUDICIAL_OFFICE)
            .values_list("pk", flat=True)
            .first()
        )
        committee = Organisation.objects.create(
            name=ref.name,
            kind=Organisation.Kind.MEDIATION_COMMITTEE,
            committee_type=Organisation.CommitteeType.TOWNSHIP,
            region_id=township.pk,
            parent_id=office,
        )
        ref.pk = committee.pk

    def _note_committee(self, ref: CommitteeRef) -> dict:
        entry = self.report.committees.get(ref.ident)
        if entry is None:
            entry = {"id": ref.pk, "name": ref.name, "region_code": ref.region_code, "created": ref.is_new, "rows": 0}
            self.report.committees[ref.ident] = entry
        entry["id"] = ref.pk
        return entry

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self.writing:
            for ref in {c.committee.ident: c.committee for c in batch if c.committee.pk is None}.values():
                self._create_committee(ref)
        existing_entries = self._existing(batch)
        to_create: list[Candidate] = []
        to_update: list[Mediator] = []
        changed_fields: set[str] = set()
        for c in batch:
            self._note_committee(c.committee)["rows"] += 1
            if not c.committee.is_new:
                self.covered.add(c.committee.pk)
            existing = existing_entries.get((c.committee.pk, c.id_number))
            if existing is None:
                self.report.created += 1
                if self.writing:
                    to_create.append(c)
                continue
            current = dict(zip(VALUE_FIELDS, existing[1:], strict=True))
            # A column the file does not have leaves that field as it is.
            wanted = {k: c.values[k] if k in c.values else current[k] for k in VALUE_FIELDS}
            changes = {k for k in VALUE_FIELDS if wanted[k] != current[k]}
            if not changes:
                self.report.unchanged += 1
                continue
            self.report.updated += 1
            if self.writing:
                changed_fields |= changes
                to_update.append(Mediator(pk=existing[0], updated_at=self.now, **wanted))
        if self.writing:
            self._insert(to_create)
            if to_update:
                Mediator.objects.bulk_update(
                    to_update, [*sorted(changed_fields), "updated_at"], batch_size=self.lim.batch_size
                )

    def _insert(self, candidates: list[Candidate]) -> None:
        """New roster entries, written the fastest way the database has.

        ``bulk_create`` spends about 100 µs a row preparing values field by field; a 20,000-row
        roster would miss the import budget (DESIGN.md §8) on that alone. The values here are
        already validated and typed, so they go straight in — same table, same columns, adapted
        by the database's own ``connection.ops`` — by COPY on PostgreSQL, elsewhere as multi-row
        INSERTs as long as the parameter limit allows.
        """
        if not candidates:
            return
        columns = ("committee_id", "id_number", *VALUE_FIELDS, "created_at", "updated_at")
        quote = connection.ops.quote_name
        table = quote(Mediator._meta.db_table)
        names = ", ".join(quote(Mediator._meta.get_field(c.removesuffix("_id")).column) for c in columns)
        now = connection.ops.adapt_datetimefield_value(self.now)
        adapt_json = connection.ops.adapt_json_value
        json_at = 2 + VALUE_FIELDS.index("specialities")
        rows = []
        for c in candidates:
            values = {**DEFAULTS, **c.values}
            row = [c.committee.pk, c.id_number, *(values[name] for name in VALUE_FIELDS), now, now]
            row[json_at] = adapt_json(row[json_at], None)
            rows.append(row)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            one = "({})".format(", ".join(["%s"] * len(columns)))
            per_statement = max(1, min(1000, (connection.features.max_query_params or 10_000) // len(columns)))
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608 - names from the model, values as parameters
                cursor.execute(sql, [v for row in chunk for v in row])

    def _deactivate_absent(self) -> None:
        """Replace roster: people of the covered committees missing from the file leave it (kept, inactive)."""
        if not self.covered:
            return
        active = Mediator.objects.filter(committee_id__in=self.covered, active=True).values_list(
            "pk", "committee_id", "id_number"
        )
        absent = [
            pk
            for pk, committee_id, id_number in active.iterator(chunk_size=2000)
            if f"pk:{committee_id}\x1f{id_number}" not in self.seen
        ]
        self.report.deactivated = len(absent)
        if self.writing and absent:
            for start in range(0, len(absent), self.lim.batch_size):
                chunk = absent[start : start + self.lim.batch_size]
                Mediator.objects.filter(pk__in=chunk).update(active=False, updated_at=self.now)


# --- Batches: record, run, apply ---------------------------------------------------------------


def file_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def start_roster_import(
    *,
    user,
    upload: UploadedFile,
    dry_run: bool = True,
    replace: bool = False,
    default_committee: Organisation | None = None,
) -> RosterImport:
    """Record an uploaded roster and run it: now for a small file, as a task for a large one.

    The caller has checked that the user may manage some roster; which rosters the file touches is
    checked row by row. Returns the batch, finished unless it is waiting for a worker.
    """
    lim = limits()
    record = RosterImport(
        created_by=user,
        file_name=os.path.basename(upload.name or "roster")[:255],
        file_size=upload.size or 0,
        dry_run=dry_run,
        replace=replace,
        default_committee=default_committee,
    )
    if record.file_size > lim.max_bytes:
        # Refused before it is stored or hashed: the upload is already on disk once, that is enough.
        record.status = RosterImport.Status.REFUSED
        record.detail = inspect_refusal(upload, lim)
        record.finished_at = timezone.now()
        record.save()
        return record
    record.file_sha256 = file_sha256(upload)
    record.file.save(f"{uuid.uuid4().hex}{extension(record.file_name)[:8]}", upload, save=False)
    record.save()
    _purge_old_files()
    return run_or_enqueue(record)


def inspect_refusal(upload: UploadedFile, lim: Limits) -> str:
    try:
        inspect_file(upload, upload.name or "", upload.size or 0, lim)
    except ImportRefused as exc:
        return exc.message
    return ""


def run_or_enqueue(record: RosterImport) -> RosterImport:
    if record.file_size <= limits().inline_max_bytes:
        # Run inside the upload request; the page the upload came from shows the pushed progress.
        from notifications.service import push_import_progress

        def progress(done: int, total: int) -> None:
            push_import_progress(record.created_by_id, record.pk, done, total)

        return execute_roster_import(record.pk, progress=progress)
    from townships.tasks import run_roster_import

    run_roster_import.enqueue(record.pk)
    record.refresh_from_db()
    return record


def apply_preview(preview: RosterImport, *, user) -> RosterImport | None:
    """Apply a dry run that found no mistakes, from the file it checked (no second upload).

    None when the preview may not be applied (it had mistakes, or it was applied already: the
    preview row is locked so that two presses of "确认导入" apply it once).
    """
    with transaction.atomic():
        preview = RosterImport.objects.select_for_update().get(pk=preview.pk)
        if not may_apply(preview):
            return None
        record = RosterImport.objects.create(
            created_by=user,
            file=preview.file.name,
            file_name=preview.file_name,
            file_sha256=preview.file_sha256,
            file_size=preview.file_size,
            file_format=preview.file_format,
            dry_run=False,
            replace=preview.replace,
            default_committee=preview.default_committee,
            preview=preview,
        )
    return run_or_enqueue(record)


def execute_roster_import(import_id: int, *, progress: Progress | None = None) -> RosterImport:
    """Run one recorded batch to its end (idempotent: a batch already claimed is left alone)."""
    claimed = RosterImport.objects.filter(pk=import_id, status=RosterImport.Status.QUEUED).update(
        status=RosterImport.Status.RUNNING, started_at=timezone.now()
    )
    record = RosterImport.objects.select_related("created_by", "default_committee__region").get(pk=import_id)
    if not claimed:
        return record
    importer = RosterImporter(
        user=record.created_by,
        dry_run=record.dry_run,
        replace=record.replace,
        default_committee=record.default_committee,
        progress=progress,
    )
    try:
        with record.file.open("rb") as handle:
            report = importer.run(handle, record.file_name, record.file_size)
    except ImportRefused as exc:
        record.status = RosterImport.Status.REFUSED
        record.detail = exc.message[:500]
        record.total_rows = importer.report.total_rows
    except IntegrityError:
        log.warning("roster import %s lost a race", import_id, exc_info=True)
        record.status = RosterImport.Status.FAILED
        record.detail = _("导入时花名册被他人同时修改，未写入任何数据，请重新导入。")
    except Exception:
        log.exception("roster import %s failed", import_id)
        record.status = RosterImport.Status.FAILED
        record.detail = _("处理文件时出错，未写入任何数据。请稍后重试，或联系系统管理员。")
    else:
        record.status = RosterImport.Status.INVALID if report.error_count else RosterImport.Status.SUCCEEDED
        record.applied = not record.dry_run and not report.error_count
        record.file_format = report.file_format
        record.sheet_name = report.sheet_name[:100]
        record.header_row = report.header_row
        record.total_rows = report.total_rows
        record.created = report.created
        record.updated = report.updated
        record.unchanged = report.unchanged
        record.deactivated = report.deactivated
        record.error_count = report.error_count
        record.errors = [e.as_dict() for e in report.errors]
        record.committees = report.committee_list()
        if report.error_count:
            record.detail = _("发现 %d 处错误，未导入任何数据。请改正后重新上传。") % report.error_count
    record.finished_at = timezone.now()
    record.save()
    if record.applied:
        forget_file(record)
    return record


# A batch of 20,000 rows runs in well under a minute (BENCHMARKS.md); one still "running" after this
# long lost its process (a crash, a kill, a restart) and, its transaction rolled back, wrote nothing.
STALLED_AFTER = datetime.timedelta(minutes=30)


def reap_stalled_imports(now: datetime.datetime | None = None) -> int:
    """Mark batches whose process died as failed, so that the user learns it and may import again
    (an apply still "running" would block every later apply of its preview)."""
    now = now or timezone.now()
    return RosterImport.objects.filter(status=RosterImport.Status.RUNNING, started_at__lt=now - STALLED_AFTER).update(
        status=RosterImport.Status.FAILED,
        finished_at=now,
        detail=_("导入过程意外中断（服务器重启或进程退出），未写入任何数据，请重新导入。"),
    )


def forget_file(record: RosterImport) -> None:
    """Delete the stored upload once its rows are in the database: it holds ID numbers."""
    name = record.file.name
    if not name:
        return
    RosterImport.objects.filter(file=name).update(file="")
    record.file.storage.delete(name)
    record.file.name = ""


def _purge_old_files(days: int = 7) -> None:
    """Uploads nobody applied are kept a week (to apply a preview or fetch its error list), no longer."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    for record in RosterImport.objects.filter(created_at__lt=cutoff).exclude(file="")[:100]:
        try:
            record.file.storage.delete(record.file.name)
        except OSError:
            log.warning("could not delete %s", record.file.name, exc_info=True)
        RosterImport.objects.filter(file=record.file.name).update(file="")


def imports_of(user):
    """The batches a user may look at: their own (everyone's for a superuser)."""
    qs = RosterImport.objects.select_related("created_by")
    return qs if user.is_superuser else qs.filter(created_by=user)


def report_json(record: RosterImport) -> dict:
    """The report of DESIGN.md §6 (plus status, detail and the committees touched)."""
    return {
        "id": record.pk,
        "status": record.status,
        "status_label": record.get_status_display(),
        "dry_run": record.dry_run,
        "applied": record.applied,
        "replace": record.replace,
        "file_name": record.file_name,
        "file_sha256": record.file_sha256,
        "sheet": record.sheet_name,
        "header_row": record.header_row,
        "total_rows": record.total_rows,
        "created": record.created,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "deactivated": record.deactivated,
        "committees": record.committees,
        "error_count": record.error_count,
        "errors": record.errors,
        "detail": record.detail,
        "preview": record.preview_id,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }


_ACTIVE = (RosterImport.Status.QUEUED, RosterImport.Status.RUNNING)


def may_apply(record: RosterImport) -> bool:
    return (
        record.dry_run
        and record.status == RosterImport.Status.SUCCEEDED
        and bool(record.file.name)
        and not record.applies.filter(status__in=[RosterImport.Status.SUCCEEDED, *_ACTIVE]).exists()
    )


# --- Workbooks: errors and template -----------------------------------------------------------


def error_workbook(record: RosterImport):
    """The original rows, each with what is wrong with it: fix in place and upload again.

    Every data row is kept (so the corrected file is the whole roster), with two added columns the
    importer ignores: the row number in the original file, and the errors.
    """
    from townships.excel import Column as XColumn
    from townships.excel import SheetWriter, new_workbook

    by_row: dict[int, list[str]] = {}
    for error in record.errors:
        if error.get("row"):
            by_row.setdefault(error["row"], []).append(f"{error['column']}：{error['message']}")
    workbook = new_workbook()
    with record.file.open("rb") as handle:
        info = inspect_file(handle, record.file_name, record.file_size, limits())
        book = SpreadsheetFile(handle, info, record.file_size, limits())
        try:
            sheet, header = book.first_sheet_with(find_header, retry_codes=HEADER_PROBLEMS)
            titles = list(header.titles)
            width = len(titles)
            columns = [XColumn(_("原行号"), 8)] + [XColumn(t or "", 16) for t in titles] + [XColumn(_("错误说明"), 60)]
            writer = SheetWriter(workbook, _("错误清单"), columns)
            for number, values in guarded(sheet.rows(width=width)):
                if number <= header.row or is_blank(values):
                    continue
                texts = [cell_text(v) for v in values] + [""] * (width - len(values))
                writer.write([number, *texts, "；".join(by_row.get(number, []))])
        finally:
            book.close()
    if record.error_count > len(record.errors):
        notes = SheetWriter(workbook, _("说明"), [XColumn(_("说明"), 80)])
        notes.write(
            [_("共 %(n)d 处错误，此表只标出前 %(m)d 处。") % {"n": record.error_count, "m": len(record.errors)}]
        )
    return workbook


TEMPLATE_COLUMNS = (
    "county",
    "township",
    "committee",
    "name",
    "sex",
    "id_number",
    "mobile",
    "position",
    "employment",
    "specialities",
    "note",
)


def template_workbook(user):
    """The import template: header, one example row, drop-downs, and a sheet of instructions.

    The township list holds the townships whose rosters this user manages (all 73 for the city).
    Written in Chinese whatever the user's language: it is the file the importer reads back.
    """
    with translation.override(ROSTER_LANGUAGE):
        return _template_workbook(user)


def _template_workbook(user):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet.datavalidation import DataValidation

    from townships.excel import Column as XColumn
    from townships.excel import SheetWriter, cell, new_workbook
    from townships.validators import make_id_number

    scope = roster_scope(user)
    townships = Region.objects.filter(level=Region.Level.TOWNSHIP).select_related("parent").order_by("code")
    if scope is not None:
        within = Q(pk__in=[])
        for code in scope:
            within |= Q(code__startswith=code)
        townships = townships.filter(within)
    townships = list(townships)
    counties = sorted({t.parent.name for t in townships if t.parent}, key=lambda n: n)
    example = townships[0] if townships else None

    widths = {
        "county": 12,
        "township": 14,
        "committee": 26,
        "name": 10,
        "sex": 6,
        "id_number": 22,
        "mobile": 15,
        "position": 9,
        "employment": 8,
        "specialities": 22,
        "note": 24,
    }
    workbook = new_workbook()
    roster = SheetWriter(
        workbook, _("花名册"), [XColumn(str(COLUMN_BY_KEY[k].label), widths[k]) for k in TEMPLATE_COLUMNS]
    )
    letters = {k: chr(ord("A") + i) for i, k in enumerate(TEMPLATE_COLUMNS)}
    last = 2001
    options = [
        ("sex", [str(Mediator.Sex.MALE.label), str(Mediator.Sex.FEMALE.label)]),
        ("position", [str(label) for _v, label in Mediator.Position.choices]),
        ("employment", [str(label) for _v, label in Mediator.Employment.choices]),
        ("county", counties),
        ("township", [t.name for t in townships]),
    ]
    for index, (key, values) in enumerate(options):
        option_col = chr(ord("A") + index)
        dv = DataValidation(
            type="list",
            formula1=f"'{_('选项')}'!${option_col}$2:${option_col}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=str(_("请从列表中选择")),
            error=str(_("请从下拉列表中选择“%s”。") % COLUMN_BY_KEY[key].label),
        )
        dv.add(f"{letters[key]}2:{letters[key]}{last}")
        roster.sheet.data_validations.append(dv)
    if example is not None:
        roster.write(
            [
                example.parent.name if example.parent else "",
                example.name,
                f"{example.name}人民调解委员会",
                _("张三（示例，导入前请删除此行）"),
                _("男"),
                make_id_number(example.code, datetime.date(1970, 1, 1), 11, male=True),
                "13800000000",
                _("调解员"),
                _("兼职"),
                "、".join(str(Category(c).label) for c in ("neighbour", "marriage_family")),
                "",
            ]
        )
    # ID numbers and mobiles typed into a "General" cell become numbers and lose digits: pre-format
    # the rows people will fill as text.
    text_columns = {TEMPLATE_COLUMNS.index("id_number"), TEMPLATE_COLUMNS.index("mobile")}
    for _row in range(roster.rows + 2, 502):
        cells = []
        for index in range(len(TEMPLATE_COLUMNS)):
            c = WriteOnlyCell(roster.sheet, value=None)
            if index in text_columns:
                c.number_format = "@"
            cells.append(c)
        roster.sheet.append(cells)

    lists = SheetWriter(workbook, _("选项"), [XColumn(str(COLUMN_BY_KEY[k].label), 16) for k, _v in options])
    for i in range(max(len(v) for _k, v in options)):
        lists.write([values[i] if i < len(values) else None for _k, values in options])
    lists.sheet.sheet_state = "hidden"

    guide = SheetWriter(workbook, _("填写说明"), [XColumn(_("填写说明"), 100)])
    for line in instructions():
        guide.sheet.append([cell(guide.sheet, line)])
    return workbook


def instructions() -> list[str]:
    categories = "、".join(str(label) for _v, label in Category.choices)
    return [
        _("1. 一行填写一名人民调解员；表头（第一行）请勿修改。可以在表头上方加标题行，系统会自动识别表头。"),
        _(
            "2. 县(市、区)和镇(街)必填：镇(街)可以写名称（带不带“镇”“街道”均可）或9位区划代码。"
            "同名镇(街)（如蓬江区白沙街道与台山市白沙镇）靠县(市、区)区分。"
        ),
        _(
            "3. 调委会名称可不填，不填即为该镇(街)人民调解委员会（系统中没有时自动建立）"
            "；村(居)或行业性专业性调委会须填写系统中登记的完整名称。"
        ),
        _("4. 身份证号码须为18位且校验位正确；请把该列设为“文本”格式，否则 Excel 会把号码变成科学计数法并丢失后几位。"),
        _("5. 性别可不填（按身份证号自动判断）；填写时须与身份证号一致。手机号码为11位。"),
        _("6. 职务：主任、副主任、委员、调解员；专兼职：专职、兼职。"),
        _("7. 擅长领域可填多个，用顿号分隔，可选：%s。") % categories,
        _(
            "8. 同一调委会内按身份证号识别同一人：已在册的人员会按表格更新，未在册的新增。"
            "选择“替换花名册”时，表中涉及的调委会里不在表中的人员将被标为“不在册”（不会删除）"
            "。"
        ),
        _("9. 导入前系统先预览检查；只要有一处错误，整个文件都不会导入，可下载错误清单逐行改正。"),
        _("10. 支持 .xlsx、.xls、.ods 和 .csv（UTF-8 或 GBK 编码）；不接受含宏或加密的文件。"),
    ]
