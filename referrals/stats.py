"""Statistics: the figures a justice bureau steers by (DOMAIN.md §6), counted in the database.

Three rules hold for every number here:

- **Scope.** Every figure starts from ``referrals_visible_to(user)`` and narrows it with the
  referral list's own filters (``referrals/filters.py``: ``region``, ``from``/``to``, ``target``,
  ``origin``, ``category``). The period is the *received* date (信访受理日期), as in the list, so
  a figure of a period counts the referrals received in it, whatever happened to them since.
- **One definition.** Each figure is a ``Figure`` in ``FIGURES``: its label, the sentence that
  defines it (tooltips, ``docs/statistics.md``) and, for counts, the condition that picks the
  referrals behind it. The same condition counts the number and filters the referral list the
  number links to (``?figure=<key>``), so the two cannot disagree.
- **Fixed cost.** A summary is a fixed set of queries, whatever the number of referrals or
  townships; nothing loops over referrals in Python. The counts come from one GROUP BY (township,
  category, month received) whose cells are summed into the headline and every breakdown
  (``Figures``). The two timeliness rates group in SQL by distinct (start day, end day) pairs and
  apply the working-day calendar of ``townships/calendar.py`` to each pair, so the rule lives in
  one place.

Figures of later apps (agreements, follow-ups, supervision orders in ``mediation``) join through
``register_source`` without this module importing them (DESIGN.md §2).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import NotSupportedError, connections
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Substr, TruncDate, TruncMonth
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.filters import FilterError, filter_referrals
from referrals.models import OPEN_STATES, Outcome, Referral, State, StatsCell
from referrals.permissions import grants_of, referrals_visible_in_area, region_range, supervises_area
from townships.categories import Category
from townships.models import Region

COUNT = "count"
RATE = "rate"
DAYS = "days"
AMOUNT = "amount"

ACCEPT_DAYS = settings.FANGDIAO["ACCEPT_WORKING_DAYS"]
MEDIATE_DAYS = settings.FANGDIAO["MEDIATE_DAYS"]


# --- SQL helpers -------------------------------------------------------------------------------


class DaysBetween(Func):
    """Fractional days from ``start`` to ``end`` (NULL when either is NULL)."""

    output_field = FloatField()

    def __init__(self, end, start) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra_context):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 86400.0)::double precision"
        elif connection.vendor == "sqlite":
            sql = f"(julianday({end_sql}) - julianday({start_sql}))"
        else:
            raise NotSupportedError(f"DaysBetween is not written for {connection.vendor}")
        return sql, (*end_params, *start_params)


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``; other backends use ``_median_by_offset``."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _has_percentile(qs: QuerySet) -> bool:
    return connections[qs.db].vendor == "postgresql"


def _median_by_offset(qs: QuerySet, expression, count: int) -> float | None:
    """The median without a percentile function: sort in SQL and read the middle one or two rows.

    Always one query (even for no rows), so a summary costs the same whatever the data.
    """
    values = list(
        qs.annotate(_value=expression)
        .filter(_value__isnull=False)
        .order_by("_value")
        .values_list("_value", flat=True)[max(count - 1, 0) // 2 : count // 2 + 1]
    )
    return sum(values) / len(values) if values else None


# --- Figures: each definition written once ---------------------------------------------------

Condition = Callable[[datetime.datetime], Q]


@dataclass(frozen=True)
class Figure:
    """One number of the statistics, defined once.

    ``where`` picks the referrals behind a count (it counts them and filters the list they link
    to); ``params`` are the ordinary list filters that show the same referrals, preferred in links
    because the list's filter form understands them. A rate is ``ratio`` (numerator, denominator)
    and links to its numerator's list (``link``).
    """

    key: str
    label: Any
    definition: Any
    unit: str = COUNT
    where: Condition | None = None
    params: Mapping[str, str] | None = None
    ratio: tuple[str, str] | None = None
    link: str | None = None
    source: str = "referrals"

    def list_params(self) -> dict[str, str]:
        """The referral-list query that shows the referrals behind this number ({} if none)."""
        if self.link and self.link != self.key:
            return FIGURES[self.link].list_params()
        if self.params is not None:
            return dict(self.params)
        if self.where is not None:
            return {"figure": self.key}
        return {}


FIGURES: dict[str, Figure] = {}


def define(*figures: Figure) -> None:
    for figure in figures:
        FIGURES[figure.key] = figure


def succeeded_q(now: datetime.datetime | None = None) -> Q:
    # The outcome of the current round is stored when mediation ends (and cleared on reopening),
    # so a closed referral still says how it ended without a look at its history.
    return Q(concluded_at__isnull=False, outcome=Outcome.AGREEMENT)


def _all_but_draft() -> str:
    return ",".join(s for s in State.values if s != State.DRAFT)


define(
    Figure(
        "total",
        gettext_lazy("受理案件"),
        gettext_lazy(
            "所选期间内收到（按信访受理日期）、您有权查看的访调对接案件数。"
            "草稿只计入登记它的信访部门；其他单位只看得到已移交的案件。"
        ),
        where=lambda now: Q(),
        params={},
    ),
    Figure(
        "submitted",
        gettext_lazy("已移交"),
        gettext_lazy("信访部门已移交给调委会、司法局或综治中心的案件，即状态不是草稿的案件。"),
        where=lambda now: ~Q(state=State.DRAFT),
        params={"state": _all_but_draft()},
    ),
    Figure(
        "accepted",
        gettext_lazy("已受理"),
        gettext_lazy("调委会已受理（确定主调解员、告知权利义务）的案件，含此后已结束、已办结的案件。"),
        where=lambda now: Q(accepted_at__isnull=False),
    ),
    Figure(
        "returned",
        gettext_lazy("被退回"),
        gettext_lazy("至少被接收单位退回过一次的案件。"),
        where=lambda now: Q(returns_count__gt=0),
    ),
    Figure(
        "ping_pong",
        gettext_lazy("反复退回"),
        gettext_lazy("被退回两次及以上的案件（“踢皮球”），司法局可督办或直接重新分派。"),
        where=lambda now: Q(ping_pong=True),
        params={"ping_pong": "true"},
    ),
    Figure(
        "concluded",
        gettext_lazy("调解结束"),
        gettext_lazy(
            "调解已经结束的案件：达成调解协议或终止调解，含此后已审核办结的；重新调解的案件在再次结束之前不计入。"
        ),
        where=lambda now: Q(concluded_at__isnull=False),
    ),
    Figure(
        "succeeded",
        gettext_lazy("调解成功"),
        gettext_lazy("调解结束、且最近一次结果为达成调解协议（书面或口头）的案件，含此后已审核办结的。"),
        where=succeeded_q,
    ),
    Figure(
        "failed",
        gettext_lazy("调解终止"),
        gettext_lazy("调解结束、且最近一次结果为终止调解（未达成协议）的案件，含此后已审核办结的。"),
        where=lambda now: Q(concluded_at__isnull=False) & ~succeeded_q(now),
    ),
    Figure(
        "closed",
        gettext_lazy("已办结"),
        gettext_lazy("信访部门已审核办结的案件（含被退回后直接办结的）。"),
        where=lambda now: Q(state=State.CLOSED),
        params={"state": State.CLOSED},
    ),
    Figure(
        "open",
        gettext_lazy("在办案件"),
        gettext_lazy("尚未审核办结的案件：草稿、待受理、调解中、已退回、调解结束待审核。"),
        where=lambda now: Q(state__in=OPEN_STATES),
        params={"open": "true"},
    ),
    Figure(
        "overdue",
        gettext_lazy("已超期"),
        format_lazy(
            gettext_lazy(
                "当前环节已超过办理期限的案件。期限：移交{refer}日、受理{accept}个工作日、调解{mediate}日"
                "（可经双方同意延长，中止期间不计）、审核办结{review}个工作日。"
            ),
            refer=settings.FANGDIAO["REFER_DAYS"],
            accept=ACCEPT_DAYS,
            mediate=MEDIATE_DAYS,
            review=settings.FANGDIAO["REVIEW_WORKING_DAYS"],
        ),
        where=lambda now: Q(due_at__lte=now),
        params={"overdue": "true"},
    ),
    Figure(
        "due_soon",
        gettext_lazy("即将到期"),
        format_lazy(
            gettext_lazy(
                "当前环节期限即将届满、尚未超期的案件：按工作日计算的期限提前{working}个工作日，"
                "按自然日计算的期限提前{days}日开始提示。"
            ),
            working=settings.FANGDIAO["DUE_SOON_WORKING_DAYS"],
            days=settings.FANGDIAO["DUE_SOON_DAYS"],
        ),
        where=lambda now: Q(due_soon_at__lte=now, due_at__gt=now),
        params={"due_soon": "true"},
    ),
    Figure(
        "closed_on_time",
        gettext_lazy("按期办结"),
        format_lazy(
            gettext_lazy("在信访办理期限内（信访受理之日起{days}日，末日为节假日的顺延）审核办结的案件。"),
            days=settings.FANGDIAO["PETITION_DAYS"],
        ),
        where=lambda now: Q(state=State.CLOSED) & Q(LessThanOrEqual(TruncDate("closed_at"), F("petition_due_on"))),
    ),
    Figure(
        "success_rate",
        gettext_lazy("调解成功率"),
        gettext_lazy("调解成功 ÷ 调解结束。"),
        unit=RATE,
        ratio=("succeeded", "concluded"),
        link="succeeded",
    ),
    Figure(
        "accepted_on_time",
        gettext_lazy("按期受理"),
        format_lazy(
            gettext_lazy(
                "在受理期限内受理的案件。受理期限自该接收单位收到案件（移交、分派或重新移交）之日起"
                "{days}个工作日，按工作日历（含调休）计算；受理之日不晚于期限最后一日即为按期。"
            ),
            days=ACCEPT_DAYS,
        ),
        where=lambda now: Q(accepted_at__isnull=False, accepted_on_time=True),
    ),
    Figure(
        "timely_acceptance_rate",
        gettext_lazy("按期受理率"),
        gettext_lazy("按期受理 ÷ 已受理。"),
        unit=RATE,
        ratio=("accepted_on_time", "accepted"),
        link="accepted",
    ),
    Figure(
        "concluded_on_time",
        gettext_lazy("按期调结"),
        format_lazy(
            gettext_lazy(
                "在调解期限内结束调解的案件。调解期限自受理（或重新调解）之日起{days}日，"
                "加上经双方同意延长的天数和中止调解的天数，末日为节假日的顺延至下一个工作日。"
            ),
            days=MEDIATE_DAYS,
        ),
        where=lambda now: Q(concluded_at__isnull=False, concluded_on_time=True),
    ),
    Figure(
        "on_time_conclusion_rate",
        gettext_lazy("按期调结率"),
        gettext_lazy("按期调结 ÷ 调解结束。"),
        unit=RATE,
        ratio=("concluded_on_time", "concluded"),
        link="concluded",
    ),
    Figure(
        "closed_on_time_rate",
        gettext_lazy("按期办结率"),
        gettext_lazy("按期办结 ÷ 已办结。"),
        unit=RATE,
        ratio=("closed_on_time", "closed"),
        link="closed_on_time",
    ),
    Figure(
        "avg_days_to_accept",
        gettext_lazy("平均受理用时"),
        gettext_lazy("从首次移交到受理所经过的平均自然日数（含退回、分派所用时间），按实际时长计算。"),
        unit=DAYS,
        link="accepted",
    ),
    Figure(
        "median_days_to_accept",
        gettext_lazy("受理用时中位数"),
        gettext_lazy("从首次移交到受理所经过自然日数的中位数：一半案件快于此数，一半慢于此数。"),
        unit=DAYS,
        link="accepted",
    ),
    Figure(
        "avg_days_to_conclude",
        gettext_lazy("平均调解用时"),
        gettext_lazy("从受理到调解结束所经过的平均自然日数（含延长和中止），只计调解已结束的案件。"),
        unit=DAYS,
        link="concluded",
    ),
    Figure(
        "median_days_to_conclude",
        gettext_lazy("调解用时中位数"),
        gettext_lazy("从受理到调解结束所经过自然日数的中位数，只计调解已结束的案件。"),
        unit=DAYS,
        link="concluded",
    ),
)

for _state in State:
    define(
        Figure(
            f"state_{_state.value}",
            _state.label,
            format_lazy(gettext_lazy("当前状态为“{state}”的案件。"), state=_state.label),
            where=lambda now, s=_state.value: Q(state=s),
            params={"state": _state.value},
        )
    )

# Conditions for the links of "本级" rows (a referral held by a county or city body, such as a
# justice bureau, before it is routed to a township): not numbers of their own.
for _level in (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY):
    define(
        Figure(
            f"level_{_level.value}",
            format_lazy(gettext_lazy("{level}本级案件"), level=_level.label),
            format_lazy(gettext_lazy("接收单位在{level}本级（如司法局）、尚未分派到镇街的案件。"), level=_level.label),
            where=lambda now, level=_level.value: Q(region__level=level),
        )
    )

# Counts of a breakdown row (by township, county, category, month).
ROW_FIGURES = ("total", "open", "overdue", "due_soon", "accepted", "concluded", "succeeded", "failed", "closed")
ROW_RATES = ("success_rate",)


# --- Later apps' figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One line of a dashboard list: a referral and why it is there."""

    referral_id: int
    number: str
    text: str
    meta: str = ""
    tone: str = ""


@dataclass(frozen=True)
class ItemList:
    keys: tuple[str, ...]  # the figures whose referrals (all of them) the full list shows
    count: int
    items: list[Item]


Lister = Callable[[QuerySet[Referral], datetime.datetime, int], ItemList]


@dataclass(frozen=True)
class StatsSource:
    """Figures another app computes (agreements, follow-ups...) over the same scoped referrals.

    ``compute(referrals, now, area=..., cells=...)`` returns ``{figure key: value}`` in a fixed number
    of queries; ``cells``, when not None, picks the scope's running-totals cells (``Scope.cells``:
    the scope is one they answer exactly, see ``referrals/rollup.py`` for keeping a source's own);
    ``lists`` are dashboard lists by name (e.g. ``supervision_overdue``).
    """

    name: str
    figures: Sequence[Figure]
    compute: Callable[..., dict[str, Any]]  # (referrals, now, area=codes or (), cells=Q or None) → {key: value}
    lists: Mapping[str, Lister] = field(default_factory=dict)


SOURCES: dict[str, StatsSource] = {}


def register_source(source: StatsSource) -> None:
    SOURCES[source.name] = source
    define(*source.figures)


def source_lister(name: str) -> Lister | None:
    for source in SOURCES.values():
        if name in source.lists:
            return source.lists[name]
    return None


# --- The list filter ``?figure=`` ------------------------------------------------------------


def figure_conditions(keys: Iterable[str], now: datetime.datetime | None = None) -> Q:
    """The referrals behind each figure, all at once (for ``?figure=a,b`` on the referral list).

    Raises ``KeyError`` naming an unknown key or one that is not a count of referrals.
    """
    now = now or timezone.now()
    q = Q()
    for key in keys:
        figure = FIGURES.get(key)
        if figure is None or figure.where is None:
            raise KeyError(key)
        q &= figure.where(now)
    return q


# --- Scope: whose referrals, where, when ----------------------------------------------------


class ScopeInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(errors)


class ScopeForbidden(PermissionError):
    pass


@dataclass(frozen=True)
class Scope:
    """The referrals a set of figures counts: the user's visible ones, narrowed like the list."""

    user: Any
    region: Region | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    target: int | None = None
    origin: int | None = None
    category: str | None = None
    state: str | None = None  # comma-separated states (dashboards: "what waits for me")

    def params(self) -> dict[str, str]:
        """The referral-list filters of this scope (the base of every link)."""
        params = {
            "region": self.region.code if self.region else None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "target": str(self.target) if self.target else None,
            "origin": str(self.origin) if self.origin else None,
            "category": self.category,
            "state": self.state,
        }
        return {k: v for k, v in params.items() if v}

    def referrals(self) -> QuerySet[Referral]:
        # The area as a range on the indexed column (and, for a supervisor over their own area,
        # without the general visibility OR that no index can serve): at 10⁶ referrals a county's
        # figures read its share of the table instead of all of it.
        params = {k: v for k, v in self.params().items() if k != "region"}
        return filter_referrals(referrals_visible_in_area(self.user, self.area()), params).order_by()

    def area(self) -> tuple[str, ...]:
        """The region(s) the figures cover: the one asked for, else (for a supervisor's picture,
        not an organisation's queue) the regions they supervise; () means "all I can see"."""
        if self.region:
            return (self.region.code,)
        if self.target or self.origin:
            return ()
        return self.supervised_codes()

    def supervised_codes(self) -> tuple[str, ...]:
        """Region codes whose every referral the user sees (supervision or routing grants)."""
        return self._supervised

    @cached_property
    def _supervised(self) -> tuple[str, ...]:
        # cached_property writes to the instance __dict__ directly, which a frozen dataclass allows.
        if self.user.is_superuser:
            return tuple(Region.objects.filter(parent__isnull=True).values_list("code", flat=True))
        g = grants_of(self.user)
        return tuple(sorted(set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))))

    def uses_rollup(self) -> bool:
        """Whether the running totals answer this scope exactly: an area the user supervises in
        full, whole months, and no filter the totals do not keep (target, state)."""
        whole_months = (self.date_from is None or self.date_from.day == 1) and (
            self.date_to is None or self.date_to == month_end(self.date_to)
        )
        return (
            whole_months
            and self.target is None
            and not self.state
            and bool(self.area())
            and supervises_area(self.user, self.area())
        )

    def cells(self) -> Q:
        """The running-totals cells of this scope (any cell table keyed like ``StatsCell``); only
        meaningful when ``uses_rollup()``."""
        q = region_range(self.area(), field="area")
        if not self.user.is_superuser:
            mine = grants_of(self.user).orgs("view_org_referrals")
            q &= Q(draft=False) | Q(origin_id__in=mine)
        if self.date_from:
            q &= Q(month__gte=self.date_from)
        if self.date_to:
            q &= Q(month__lte=self.date_to)
        if self.category:
            q &= Q(category=self.category)
        if self.origin:
            q &= Q(origin_id=self.origin)
        return q

    def with_params(self, **changes) -> Scope:
        return dataclasses.replace(self, **changes)


SCOPE_PARAMS = ("region", "from", "to", "target", "origin", "category")


def parse_scope(user, params: Mapping[str, str]) -> Scope:
    """A ``Scope`` from query parameters, validated like the list's filters.

    Raises ``ScopeInvalid`` (a 400, naming each bad parameter) or ``ScopeForbidden`` (a 403) for a
    region outside what the user supervises. A user without a regional grant (a petition office,
    a committee) may narrow their own referrals by any region: what they cannot see is not counted.
    """
    given = {k: params.get(k, "").strip() for k in SCOPE_PARAMS}
    given = {k: v for k, v in given.items() if v}
    errors: dict[str, list[str]] = {}
    try:
        filter_referrals(Referral.objects.none(), given)
    except FilterError as exc:
        errors.update(exc.errors)
    region = None
    if "region" in given and "region" not in errors:
        region = Region.objects.filter(code=given["region"]).first()
        if region is None:
            errors["region"] = [_("未知的区划代码：%s") % given["region"]]
    date_from = _date(given.get("from")) if "from" not in errors else None
    date_to = _date(given.get("to")) if "to" not in errors else None
    if date_from and date_to and date_from > date_to:
        errors["to"] = [_("结束日期不能早于开始日期。")]
    if errors:
        raise ScopeInvalid(errors)
    scope = Scope(
        user=user,
        region=region,
        date_from=date_from,
        date_to=date_to,
        target=int(given["target"]) if "target" in given else None,
        origin=int(given["origin"]) if "origin" in given else None,
        category=given.get("category"),
    )
    if region is not None and not user.is_superuser:
        supervised = scope.supervised_codes()
        if supervised and not any(region.code.startswith(code) for code in supervised):
            raise ScopeForbidden(_("%s 不在您督导的区域内。") % region.name)
    return scope


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


# --- Computing ---------------------------------------------------------------------------------


# Counts that follow from others by their definition, so the database need not count them again
# (a "failed" count would evaluate the outcome subquery a second time for every closed referral).
DERIVED: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "failed": lambda v: v["concluded"] - v["succeeded"],
}


def _counts(keys: Iterable[str], now: datetime.datetime) -> dict[str, Aggregate]:
    keys = list(keys)
    needed = set(keys) | ({"concluded", "succeeded"} if "failed" in keys else set())
    return {key: Count("pk", filter=FIGURES[key].where(now)) for key in needed if key not in DERIVED}


def _derive(values: dict[str, Any]) -> dict[str, Any]:
    for key, rule in DERIVED.items():
        if key not in values and all(k in values for k in ("concluded", "succeeded")):
            values[key] = rule(values)
    return values


def counts(scope: Scope, keys: Iterable[str], now: datetime.datetime | None = None) -> dict[str, int]:
    """Several count figures of a scope in one aggregate query."""
    return _derive(scope.referrals().aggregate(**_counts(keys, now or timezone.now())))


def _ratio(values: Mapping[str, Any], figure: Figure) -> float | None:
    numerator, denominator = figure.ratio
    top, bottom = values.get(numerator), values.get(denominator)
    if top is None or not bottom:
        return None
    return round(top / bottom, 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


HEADLINE_COUNTS = (
    "total",
    "submitted",
    "accepted",
    "returned",
    "ping_pong",
    "concluded",
    "succeeded",
    "failed",
    "closed",
    "open",
    "overdue",
    "due_soon",
    "closed_on_time",
    "accepted_on_time",
    "concluded_on_time",
    *(f"state_{s}" for s in State.values),
)


def _to_accept() -> DaysBetween:
    return DaysBetween("accepted_at", "submitted_at")


def _to_conclude() -> DaysBetween:
    return DaysBetween("concluded_at", "accepted_at")


class Figures:
    """Every figure of one scope at one moment; each query runs once, when first needed.

    The counts come from one GROUP BY (township, category, month received) over the scope — the
    *cells* — and the headline and every breakdown are sums of those cells, so a summary reads the
    scoped referrals once, however many breakdowns it shows. The rest: the medians (one query on
    PostgreSQL, two elsewhere), the two timeliness counts (one each), each registered source's
    figures (mediation: four) and the regions of the township table (one). A scope the running
    totals answer (``Scope.uses_rollup``) sums ``StatsCell`` in SQL by each breakdown's dimension
    instead (four small queries) and counts only the clock's figures live (``clock``); mediation's
    agreement and follow-up figures then come from its own running totals too (``cells=``).
    """

    def __init__(self, scope: Scope, now: datetime.datetime | None = None) -> None:
        self.scope = scope
        self.now = now or timezone.now()

    @cached_property
    def referrals(self) -> QuerySet[Referral]:
        return self.scope.referrals()

    @cached_property
    def cells(self) -> list[dict[str, Any]]:
        """The counts per (township, category, month received), from one GROUP BY over the scope's
        referrals (a scope the running totals answer sums them per dimension instead, ``_sums``)."""
        return list(
            self.referrals.annotate(area=Substr("region_code", 1, 9), month=TruncMonth("received_on"))
            .values("area", "category", "month")
            .annotate(
                **_counts(HEADLINE_COUNTS, self.now),
                _days_to_accept=Sum(_to_accept()),
                _n_to_accept=Count(_to_accept()),
                _days_to_conclude=Sum(_to_conclude()),
                _n_to_conclude=Count(_to_conclude()),
            )
            .order_by()
        )

    @cached_property
    def rollup(self) -> bool:
        """Whether the running totals answer this scope (``Scope.uses_rollup``)."""
        return self.scope.uses_rollup()

    @cached_property
    def clock(self) -> list[dict[str, Any]]:
        """Overdue / due soon per cell, counted live over the referrals that have a deadline (the
        figures of the clock, which no running total can keep)."""
        return list(
            self.referrals.filter(due_at__isnull=False)
            .annotate(area=Substr("region_code", 1, 9), month=TruncMonth("received_on"))
            .values("area", "category", "month")
            .annotate(**_counts(("overdue", "due_soon"), self.now))
            .order_by()
        )

    def _sums_from_rollup(self, dimension: str | None) -> dict[Any, dict[str, Any]]:
        """The running totals (``StatsCell``) of the scope summed by ``dimension`` in SQL (a few
        dozen rows, whatever the number of cells), plus the clock's two figures counted live."""
        from referrals import rollup

        names = {
            "days_to_accept": "_days_to_accept",
            "n_to_accept": "_n_to_accept",
            "days_to_conclude": "_days_to_conclude",
            "n_to_conclude": "_n_to_conclude",
        }
        # A breakdown row shows only ROW_FIGURES; the headline every counter.
        counters = rollup.COUNTERS if dimension is None else [c for c in rollup.COUNTERS if c in ROW_FIGURES]
        totals = {c: Sum(c) for c in counters}
        cells = StatsCell.objects.filter(self.scope.cells())
        found = [cells.aggregate(**totals)] if dimension is None else cells.values(dimension).annotate(**totals)
        groups: dict[Any, dict[str, Any]] = {}
        for row in found.order_by() if dimension else found:
            group = row[dimension] if dimension else None
            groups[group] = {"overdue": 0, "due_soon": 0, **{names.get(c, c): row[c] or 0 for c in counters}}
        for row in self.clock:
            group = groups.get(row[dimension] if dimension else None)
            if group is not None:  # always there: a referral with a deadline is in its cell
                group["overdue"] += row["overdue"]
                group["due_soon"] += row["due_soon"]
        return groups

    def _sums(self, dimension: str | None) -> dict[Any, dict[str, Any]]:
        """The cells summed by ``dimension`` ("area", "category", "month"; None: all of them):
        {group: {figure: sum}}."""
        if self.rollup:
            return self._sums_from_rollup(dimension)
        measures = [k for k in (self.cells[0] if self.cells else {}) if k not in ("area", "category", "month")]
        groups: dict[Any, dict[str, Any]] = {}
        for cell in self.cells:
            key = cell[dimension] if dimension else None
            group = groups.get(key)
            if group is None:
                groups[key] = {m: cell[m] or 0 for m in measures}
            else:
                for m in measures:
                    group[m] += cell[m] or 0
        return groups

    @cached_property
    def headline(self) -> dict[str, Any]:
        """Every single-number figure of the scope."""
        values: dict[str, Any] = dict.fromkeys(_counts(HEADLINE_COUNTS, self.now), 0)
        values |= {"_days_to_accept": 0, "_n_to_accept": 0, "_days_to_conclude": 0, "_n_to_conclude": 0}
        values |= self._sums(None).get(None, {})
        _derive(values)
        for name in ("accept", "conclude"):
            n = values[f"_n_to_{name}"]
            values[f"avg_days_to_{name}"] = _round(values[f"_days_to_{name}"] / n) if n else None
        values |= self.medians(values["_n_to_accept"], values["_n_to_conclude"])
        cells = self.scope.cells() if self.rollup else None
        for source in SOURCES.values():
            values.update(source.compute(self.referrals, self.now, area=self.scope.area(), cells=cells))
        for figure in FIGURES.values():
            if figure.ratio:
                values[figure.key] = _ratio(values, figure)
        return {k: v for k, v in values.items() if not k.startswith("_")}

    def medians(self, n_to_accept: int, n_to_conclude: int) -> dict[str, float | None]:
        qs = self.referrals
        if _has_percentile(qs):
            found = qs.aggregate(accept=Median(_to_accept()), conclude=Median(_to_conclude()))
        else:
            found = {
                "accept": _median_by_offset(qs, _to_accept(), n_to_accept),
                "conclude": _median_by_offset(qs, _to_conclude(), n_to_conclude),
            }
        return {"median_days_to_accept": _round(found["accept"]), "median_days_to_conclude": _round(found["conclude"])}

    @cached_property
    def by_region(self) -> list[dict[str, Any]]:
        """One row per township (villages count in theirs) and per county or city "本级", in code
        order; every township of the area is listed, one without referrals with zeros."""
        counts = {area: _row(values) for area, values in self._sums("area").items()}
        wanted = Q(code__in=list(counts))
        for code in self.scope.area():
            wanted |= Q(code__startswith=code, level=Region.Level.TOWNSHIP)
        out = []
        for region in Region.objects.filter(wanted).select_related("parent").order_by("code"):
            values = counts.get(region.code) or _row({})
            if region.level == Region.Level.TOWNSHIP:
                county = region.parent
                row = {"code": region.code, "name": region.name, "county_code": county.code, "county_name": county.name}
            else:
                here = _("%s本级") % region.name
                county_name = region.name if region.level == Region.Level.COUNTY else here
                row = {"code": region.code, "name": here, "county_code": region.code, "county_name": county_name}
            out.append({**row, "level": region.level, **values})
        return out

    @cached_property
    def by_county(self) -> list[dict[str, Any]]:
        return by_county(self.by_region)

    @cached_property
    def by_category(self) -> list[dict[str, Any]]:
        """One row per dispute category, in the standard order, zeros included."""
        counts = self._sums("category")
        return [{"code": c.value, "name": str(c.label), **_row(counts.get(c.value, {}))} for c in Category]

    @cached_property
    def by_month(self) -> list[dict[str, Any]]:
        """One row per month received, from the first month with referrals to the last."""
        counts = self._sums("month")
        if not counts:
            return []
        return [{"month": m.strftime("%Y-%m"), **_row(counts.get(m, {}))} for m in months(min(counts), max(counts))]


def headline(scope: Scope, now: datetime.datetime | None = None) -> dict[str, Any]:
    return Figures(scope, now).headline


def by_region(scope: Scope, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    return Figures(scope, now).by_region


def by_category(scope: Scope, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    return Figures(scope, now).by_category


def by_month(scope: Scope, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    return Figures(scope, now).by_month


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    row = _derive({key: values[key] for key in ROW_FIGURES if key in values})
    row = {key: row.get(key, 0) for key in ROW_FIGURES}
    for key in ROW_RATES:
        row[key] = _ratio(row, FIGURES[key])
    return row


def region_link_keys(row: Mapping[str, Any], *, county_table: bool = False) -> tuple[str, ...]:
    """Figure keys that, with ``region=<code>``, show exactly a breakdown row's referrals: a township
    (or a county of the county table) is everything under its code, a "本级" row only what sits at it."""
    level = row["level"]
    if level == Region.Level.TOWNSHIP or (county_table and level == Region.Level.COUNTY):
        return ()
    return (f"level_{level}",)


def by_county(region_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """County totals summed from the township rows (no query)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in region_rows:
        level = Region.Level.COUNTY if row["level"] == Region.Level.TOWNSHIP else row["level"]
        county = totals.setdefault(
            row["county_code"], {"code": row["county_code"], "name": row["county_name"], "level": level, **_row({})}
        )
        for key in ROW_FIGURES:
            county[key] += row[key]
    for county in totals.values():
        county.update({key: _ratio(county, FIGURES[key]) for key in ROW_RATES})
    return sorted(totals.values(), key=lambda r: r["code"])


def months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    out, current = [], first.replace(day=1)
    while current <= last:
        out.append(current)
        if current.year == datetime.MAXYEAR and current.month == 12:
            break  # a period may end on 9999-12-31; there is no month after it
        current = (
            current.replace(year=current.year + 1, month=1)
            if current.month == 12
            else current.replace(month=current.month + 1)
        )
    return out


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def summary(scope: Scope, now: datetime.datetime | None = None) -> dict[str, Any]:
    """``GET /api/stats/summary/``: DESIGN.md §6's keys first, then every other figure."""
    figures = Figures(scope, now)
    values = figures.headline
    return {
        "total": values["total"],
        "by_state": {s: values[f"state_{s}"] for s in State.values},
        "by_category": {row["code"]: row["total"] for row in figures.by_category},
        "by_township": figures.by_region,
        "overdue": values["overdue"],
        "due_soon": values["due_soon"],
        "concluded": values["concluded"],
        "succeeded": values["succeeded"],
        "success_rate": values["success_rate"],
        "avg_days_to_conclude": values["avg_days_to_conclude"],
        "figures": {k: _json(v) for k, v in values.items() if not k.startswith("state_")},
        "by_county": figures.by_county,
        "categories": figures.by_category,
        "by_month": figures.by_month,
        "scope": {
            "region": scope.region.code if scope.region else None,
            "region_name": scope.region.name if scope.region else None,
            "area": list(scope.area()),
            "from": scope.date_from.isoformat() if scope.date_from else None,
            "to": scope.date_to.isoformat() if scope.date_to else None,
            "target": scope.target,
            "origin": scope.origin,
            "category": scope.category,
            "generated_at": figures.now.isoformat(),
        },
    }


def _json(value):
    return f"{value:.2f}" if isinstance(value, Decimal) else value


# --- Links and display ---------------------------------------------------------------------------


def list_url(scope: Scope | None, *keys: str, **extra: str) -> str:
    """The referral list showing the referrals behind figures ``keys`` (ANDed) within ``scope``."""
    params: dict[str, str] = dict(scope.params()) if scope else {}
    figures: list[str] = []
    for key in keys:
        for name, value in FIGURES[key].list_params().items():
            if name == "figure":
                figures.append(value)
            else:
                params[name] = value
    params.update({k: v for k, v in extra.items() if v})
    if figures:
        params["figure"] = ",".join(figures)
    query = urlencode(params)
    return reverse("referrals:list") + (f"?{query}" if query else "")


def display(key: str, value) -> str:
    """A figure's value as a page shows it: 12 · 66.7% · 3.5 天 · ¥12,500 · — when undefined."""
    if value is None:
        return "—"
    unit = FIGURES[key].unit
    if unit == RATE:
        return f"{value * 100:.1f}%"
    if unit == DAYS:
        return _("%s 天") % f"{value:.1f}"
    if unit == AMOUNT:
        return f"¥{Decimal(value):,.0f}"
    return str(value)


# --- docs/statistics.md ------------------------------------------------------------------------

DOCS_BEGIN = "<!-- figures:begin (generated from referrals/stats.py FIGURES; see below to refresh) -->"
DOCS_END = "<!-- figures:end -->"


def figures_markdown() -> str:
    """The figure table of ``docs/statistics.md``, written from the registry."""
    from django.utils import translation

    lines = [
        DOCS_BEGIN,
        "",
        "| key | 名称 | 定义 | list link |",
        "|---|---|---|---|",
    ]
    with translation.override("zh-hans"):
        for figure in FIGURES.values():
            if figure.key.startswith(("state_", "level_")):
                continue
            link = urlencode(figure.list_params()) or "(all)"
            unit = {RATE: "比率", DAYS: "天", AMOUNT: "元"}.get(figure.unit, "")
            label = f"{figure.label}（{unit}）" if unit else str(figure.label)
            lines.append(f"| `{figure.key}` | {label} | {figure.definition} | `?{link}` |")
    lines += ["", DOCS_END]
    return "\n".join(lines)
