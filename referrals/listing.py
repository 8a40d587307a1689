"""How the referral list is read: its sort orders, stable pages, the active filters as chips and the
township picker. Shared by the page (``/referrals/``) and ``GET /api/referrals/``; the filters
themselves are ``referrals/filters.py``.

Pages are keyset pages: each sort ends with the id, so that no two rows tie, and a page starts just
after the last row of the one before (a cursor holding that row's sort values), however many rows
were added or changed meanwhile. Each sort is served by an index on PostgreSQL (migration 0014).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.filters import TRUE, FilterError
from referrals.models import Referral, State, Tier
from townships import regions
from townships.categories import Category
from townships.models import Organisation, Region

# Parameters that move through the list rather than choose what it shows.
PAGING = ("cursor", "before", "fragment", "page_size")
# Filters a link may set (a dashboard number, a statistics row) that the list's form has no field for.
KEPT_BY_FORM = (
    "target",
    "origin",
    "open",
    "ping_pong",
    "escalated",
    "tier",
    "merged",
    "repeat",
    "from",
    "to",
    "figure",
)


# --- Sorts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One column of a sort. Only a sort's first column may be ``nullable``; ``nulls_last`` says where
    its rows without a value go."""

    field: str
    descending: bool = False
    nullable: bool = False
    nulls_last: bool = True

    def reversed(self) -> Key:
        return Key(self.field, not self.descending, self.nullable, not self.nulls_last)

    def order(self):
        if not self.nullable:
            return f"-{self.field}" if self.descending else self.field
        nulls = {"nulls_last": True} if self.nulls_last else {"nulls_first": True}
        return F(self.field).desc(**nulls) if self.descending else F(self.field).asc(**nulls)

    def compare(self, value, *, strictly: bool) -> Q:
        """Values at or (``strictly``) after ``value`` in this column's direction; never null."""
        op = ("lt" if self.descending else "gt") + ("" if strictly else "e")
        return Q(**{f"{self.field}__{op}": value})


def _after(keys: list[Key], values: list) -> Q:
    """Rows after ``values`` in the order of ``keys`` (none null), written so that the database can
    start reading its index at the position: a >= x AND (a > x OR (b >= y AND (b > y OR ...)))."""
    key, value = keys[0], values[0]
    if len(keys) == 1:
        return key.compare(value, strictly=True)
    return key.compare(value, strictly=False) & (key.compare(value, strictly=True) | _after(keys[1:], values[1:]))


@dataclass(frozen=True)
class Sort:
    value: str
    label: Promise
    keys: tuple[Key, ...]

    def __post_init__(self) -> None:
        assert not any(k.nullable for k in self.keys[1:]), "only the first column of a sort may be null"

    def order(self, *, backwards: bool = False) -> list:
        return [(k.reversed() if backwards else k).order() for k in self.keys]

    def after(self, values: list, *, backwards: bool = False) -> list[Q]:
        """The rows after those with sort ``values``, as parts to read one after the other (each in the
        sort's order): the rows with a value and the rows without one sit apart in the index."""
        keys = [k.reversed() if backwards else k for k in self.keys]
        first = keys[0]
        if not first.nullable:
            return [_after(keys, values)]
        null = Q(**{f"{first.field}__isnull": True})
        if values[0] is None:
            # Within the nulls, by the other columns; then, when nulls come first, every other row.
            parts = [null & _after(keys[1:], values[1:])]
            return parts if first.nulls_last else [*parts, ~null]
        return [_after(keys, values), null] if first.nulls_last else [_after(keys, values)]

    def position(self, row: Referral) -> list:
        return [getattr(row, "pk" if k.field == "id" else k.field) for k in self.keys]


DEFAULT_SORT = "recent"
SORTS: dict[str, Sort] = {
    s.value: s
    for s in (
        Sort("recent", gettext_lazy("最新登记在前"), (Key("id", descending=True),)),
        # The current stage's deadline; referrals without one (closed, paused) after the rest.
        Sort("deadline", gettext_lazy("期限最近在前"), (Key("due_at", nullable=True), Key("id"))),
        Sort("received_newest", gettext_lazy("受理日期（新→旧）"), (Key("received_on", True), Key("id", True))),
        Sort("received_oldest", gettext_lazy("受理日期（旧→新）"), (Key("received_on"), Key("id"))),
        # By region code: each county's townships together, in the statistical code's order.
        Sort("township", gettext_lazy("按镇街"), (Key("region_code"), Key("id", descending=True))),
    )
}


def parse_sort(params: Mapping[str, str]) -> Sort:
    value = (params.get("sort") or "").strip() or DEFAULT_SORT
    if value not in SORTS:
        raise FilterError(
            {"sort": [_("未知排序方式：%(value)s（可用：%(known)s）") % {"value": value, "known": ", ".join(SORTS)}]}
        )
    return SORTS[value]


# --- Pages -------------------------------------------------------------------------------------


@dataclass
class Page:
    rows: list
    next: str | None  # cursor of the next page
    previous: str | None  # cursor of the page before


def _bad_cursor() -> FilterError:
    return FilterError({"cursor": [_("翻页位置无效，请回到第一页。")]})


def encode_cursor(sort: Sort, row: Referral, *, backwards: bool = False) -> str:
    values = sort.position(row)
    if len(values) == 1:
        # The newest-first order keeps the cursors of Django REST framework's ``p=<id>``.
        tokens = {"p": str(values[0])}
    else:
        tokens = {"s": sort.value, "p": json.dumps([None if v is None else str(v) for v in values])}
    if backwards:
        tokens["r"] = "1"
    return base64.b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


def decode_cursor(sort: Sort, cursor: str) -> tuple[list, bool]:
    """(sort values, backwards) of a cursor; ``FilterError`` if it is not one of this sort's."""
    try:
        tokens = parse_qs(base64.b64decode(cursor.encode("ascii")).decode("ascii"), strict_parsing=True)
        raw = tokens["p"][0]
        texts = [raw] if len(sort.keys) == 1 else json.loads(raw)
    except (ValueError, KeyError, UnicodeError, binascii.Error):
        raise _bad_cursor() from None
    if tokens.get("s", [DEFAULT_SORT])[0] != sort.value or not isinstance(texts, list) or len(texts) != len(sort.keys):
        raise _bad_cursor()
    values = []
    for key, text in zip(sort.keys, texts, strict=True):
        if text is None and key.nullable:
            values.append(None)
            continue
        if not isinstance(text, str):
            raise _bad_cursor()
        try:
            value = Referral._meta.get_field(key.field).to_python(text)
        except ValidationError:
            raise _bad_cursor() from None
        # Beyond the database's 64-bit integers the query itself would fail.
        if value is None or (isinstance(value, int) and not -(2**63) <= value < 2**63):
            raise _bad_cursor()
        values.append(value)
    return values, tokens.get("r", ["0"])[0] == "1"


def paginate(qs: QuerySet[Referral], sort: Sort, cursor: str | None, size: int) -> Page:
    """One page of ``size`` rows in ``sort``'s order, after (or, backwards, before) ``cursor``."""
    if not cursor:
        rows = list(qs.order_by(*sort.order())[: size + 1])
        return Page(rows[:size], encode_cursor(sort, rows[size - 1]) if len(rows) > size else None, None)
    values, backwards = decode_cursor(sort, cursor)
    rows: list[Referral] = []
    for part in sort.after(values, backwards=backwards):
        rows += qs.filter(part).order_by(*sort.order(backwards=backwards))[: size + 1 - len(rows)]
        if len(rows) > size:
            break
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        return Page(
            rows,
            encode_cursor(sort, rows[-1]) if rows else None,
            encode_cursor(sort, rows[0], backwards=True) if more else None,
        )
    return Page(
        rows,
        encode_cursor(sort, rows[-1]) if more else None,
        encode_cursor(sort, rows[0], backwards=True) if rows else None,
    )


# The total is counted exactly up to here, then shown as "at least": a count over a whole city's
# million referrals would cost more than the page it heads (docs/architecture.md, list budget).
COUNT_LIMIT = 10_000


def count(qs: QuerySet[Referral]) -> tuple[int, bool]:
    """(the number of rows, up to ``COUNT_LIMIT``; whether there are more)."""
    n = qs.order_by()[: COUNT_LIMIT + 1].count()
    return min(n, COUNT_LIMIT), n > COUNT_LIMIT


def page_size(value: str | None, *, default: int = 25, maximum: int = 100) -> int:
    """``page_size`` as asked, within 1 – ``maximum``; anything else the default (as DRF does)."""
    try:
        size = int(value or "")
    except ValueError:
        return default
    return min(size, maximum) if size > 0 else default


# --- Active filters as chips -------------------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    label: str
    remove: str  # the query string of the list without this one filter (no leading "?")


FLAGS = {
    "open": gettext_lazy("未办结"),
    "overdue": gettext_lazy("已超期"),
    "due_soon": gettext_lazy("即将到期"),
    "ping_pong": gettext_lazy("反复退回"),
    "escalated": gettext_lazy("升级调解"),
    "merged": gettext_lazy("已并入"),
    "repeat": gettext_lazy("重复件"),
}
# Comma-separated filters: one chip per value, each removing only its value.
MULTI = ("state", "category", "tier", "figure")


def query_without_paging(params: Mapping[str, str]) -> str:
    """The list's query string as it stands, without the page position (the first page)."""
    return _without(params, "")


def region_label(code: str) -> str:
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code


def _without(params: Mapping[str, str], name: str, value: str | None = None) -> str:
    """The list's query without ``name`` (or only its ``value``), and without paging."""
    pairs = []
    for key in params:
        if key in PAGING:
            continue
        current = params.get(key, "")
        if key == name:
            if value is None:
                continue
            rest = [v for v in (p.strip() for p in current.split(",")) if v and v != value]
            if not rest:
                continue
            current = ",".join(rest)
        pairs.append((key, current))
    return urlencode(pairs)


def _is_id(value: str) -> bool:
    return value.isdigit() and len(value) <= 18


def active_filters(params: Mapping[str, str]) -> list[Chip]:
    """Each filter in force, labelled for people (a figure by its label, a township by its name),
    with the link that removes it and only it. At most two queries (organisation and region names)."""
    from referrals.stats import FIGURES

    chips: list[Chip] = []
    labels = {
        "state": dict(State.choices),
        "category": dict(Category.choices),
        "tier": dict(Tier.choices),
        "figure": {key: figure.label for key, figure in FIGURES.items()},
    }
    titles = {
        "state": _("状态"),
        "category": _("类别"),
        "tier": _("调解层级"),
        "figure": _("统计口径"),
        "target": _("接收单位"),
        "origin": _("移交单位"),
        "region": _("属地"),
        "search": _("搜索"),
        "from": _("受理日期自"),
        "to": _("受理日期至"),
    }
    ids = [int(v) for v in (params.get(f) or "" for f in ("target", "origin")) if _is_id(v)]
    names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    region = (params.get("region") or "").strip()
    region_name = Region.objects.filter(code=region).values_list("name", flat=True).first() if region else None
    for key in params:
        value = (params.get(key) or "").strip()
        if key in PAGING or not value:
            continue
        if key in MULTI:
            for part in [p.strip() for p in value.split(",") if p.strip()]:
                shown = labels[key].get(part, part)
                chips.append(Chip(f"{titles[key]}：{shown}", _without(params, key, part)))
        elif key in FLAGS:
            if value.lower() in TRUE:
                chips.append(Chip(str(FLAGS[key]), _without(params, key)))
        elif key in ("target", "origin"):
            shown = names.get(int(value)) if _is_id(value) else None
            chips.append(Chip(f"{titles[key]}：{shown or value}", _without(params, key)))
        elif key == "region":
            chips.append(Chip(f"{titles[key]}：{region_name or value}", _without(params, key)))
        elif key == "search":
            chips.append(Chip(f"{titles[key]}：「{value}」", _without(params, key)))
        elif key in ("from", "to"):
            chips.append(Chip(f"{titles[key]} {value}", _without(params, key)))
    return chips


# --- The township picker -----------------------------------------------------------------------


@dataclass
class CountyGroup:
    name: str
    options: list[tuple[str, str]]  # (code, label)


def township_groups(areas: tuple[str, ...] | None) -> list[CountyGroup]:
    """The counties and townships within ``areas`` (None: everywhere), one group per county: the
    county as a whole first where all of it lies within, then its townships. One query."""
    levels = (Region.Level.COUNTY, Region.Level.TOWNSHIP)
    found = Region.objects.filter(level__in=levels).order_by("code")
    if areas is not None:
        counties = {regions.county_of(code) for code in areas} - {""}
        found = found.filter(regions.within(areas, field="code") | Q(code__in=counties))
    rows = list(found.values_list("code", "name", "level"))
    names = {code: name for code, name, level in rows if level == Region.Level.COUNTY}
    groups: dict[str, CountyGroup] = {}
    for code, name, level in rows:
        county = regions.county_of(code)
        if county not in names:
            continue
        group = groups.setdefault(county, CountyGroup(names[county], []))
        inside = areas is None or regions.contained_in_any(code, areas)
        if level == Region.Level.COUNTY and inside:
            group.options.append((code, _("%s（全部）") % name))
        elif level == Region.Level.TOWNSHIP and inside:
            group.options.append((code, name))
    return [g for g in groups.values() if g.options]
