"""The columns of a roster file and the row that names them (表头).

A roster's header is found among its first rows (a merged title row such as "XX镇人民调解员花名册"
often comes first) and its Chinese column names are read with their variants: 县(市、区), 县区,
区县; 身份证号码（18位）; 专/兼职.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from lib.spreadsheets import ImportRefused
from townships.validators import clean_text, to_halfwidth

HEADER_SCAN_ROWS = 10
# Refusals that move the search on to the next sheet (a template's instructions sheet has no header).
HEADER_PROBLEMS = ("no_header", "missing_columns")


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


# The template's columns, in its order; the roster export writes the same, so that a keeper's
# export can be edited and imported back.
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
