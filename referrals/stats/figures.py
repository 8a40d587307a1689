"""The catalogue of figures: each number defined once — its label, its sentence, the referrals
behind it — and how pages show and link it."""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import (
    F,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.models import OPEN_STATES, DeadlineKind, Outcome, Referral, State, Tier, due_soon_q, overdue_q
from townships.models import Region

if TYPE_CHECKING:
    from referrals.stats.scope import Scope

COUNT = "count"
RATE = "rate"
DAYS = "days"
AMOUNT = "amount"

ACCEPT_DAYS = settings.FANGDIAO["ACCEPT_WORKING_DAYS"]
MEDIATE_DAYS = settings.FANGDIAO["MEDIATE_DAYS"]


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
    # A count that is the sum of disjoint figures (what was due: the answered plus the late still
    # open): computed by adding them, listed by ``where`` (their union).
    parts: tuple[str, ...] | None = None
    # A rate's late ones (due and not on time): the list its tile links to beside numerator and denominator.
    late: str | None = None

    @classmethod
    def rate(
        cls,
        key: str,
        label: Any,
        definition: Any,
        ratio: tuple[str, str],
        *,
        link: str | None = None,
        late: str | None = None,
        source: str = "referrals",
    ) -> Figure:
        """A rate ``ratio`` (numerator, denominator), linking to its numerator's list unless ``link`` says."""
        return cls(key, label, definition, unit=RATE, ratio=ratio, link=link or ratio[0], late=late, source=source)

    def list_params(self) -> dict[str, str]:
        """The referral-list query that shows the referrals behind this number ({} if none)."""
        if self.link and self.link != self.key:
            return FIGURES[self.link].list_params()
        if self.params is not None:
            return dict(self.params)
        if self.where is not None:
            return {"figure": self.key}
        return {}


_OWN: dict[str, Figure] = {}


def define(*figures: Figure) -> None:
    """Add the referrals app's own figures to the catalogue (at import; other apps' come through
    their ``Extension.stats``)."""
    for figure in figures:
        _OWN[figure.key] = figure


class Catalogue(Mapping[str, Figure]):
    """Every figure by key: the referrals app's own, then each registered source's, in that order."""

    def __init__(self) -> None:
        self._made: tuple[tuple, dict[str, Figure], tuple[Figure, ...]] | None = None

    def _all(self) -> dict[str, Figure]:
        return self._catalogue()[1]

    def _catalogue(self) -> tuple[tuple, dict[str, Figure], tuple[Figure, ...]]:
        # Made once the figures are all known: a summary reads the catalogue for every row of its
        # breakdowns (a thousand at the city), and making it each time was a sixth of the page.
        found = sources()
        made_of = (len(_OWN), id(found), len(found))
        if self._made is None or self._made[0] != made_of:
            every = {**_OWN, **{f.key: f for source in found for f in source.figures}}
            self._made = (made_of, every, tuple(f for f in every.values() if f.parts))
        return self._made

    def summed(self) -> tuple[Figure, ...]:
        """The figures that are sums of others (``Figure.parts``), in order."""
        return self._catalogue()[2]

    def __getitem__(self, key: str) -> Figure:
        if key in _OWN:
            return _OWN[key]
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def values(self):
        return self._all().values()

    def items(self):
        return self._all().items()


FIGURES = Catalogue()


def succeeded_q(now: datetime.datetime | None = None) -> Q:
    # The outcome of the current round is stored when mediation ends (and cleared on reopening),
    # so a closed referral still says how it ended without a look at its history.
    return Q(concluded_at__isnull=False, outcome=Outcome.AGREEMENT)


def _answered() -> Q:
    """The receiver has answered: accepted (whatever came after), or returned and not sent on again
    (waiting for the office, or closed by it without mediation)."""
    return Q(accepted_at__isnull=False) | Q(
        accepted_at__isnull=True, returns_count__gt=0, state__in=(State.DECLINED, State.CLOSED)
    )


def _answered_in_time() -> Q:
    """Of the answered: accepted within the acceptance deadline, or returned within it."""
    return Q(accepted_at__isnull=False, accepted_on_time=True) | Q(accepted_at__isnull=True, declined_on_time=True)


def _petition_closed_in_time() -> Q:
    return Q(LessThanOrEqual(TruncDate("closed_at"), F("petition_due_on")))


def _petition_overdue(now: datetime.datetime) -> Q:
    # The petition deadline is a whole day, like the stage deadlines: late from the next day on.
    return Q(state__in=OPEN_STATES, petition_due_on__lt=timezone.localtime(now).date())


def _overdue_at(kind: DeadlineKind) -> Condition:
    """Waiting at stage ``kind`` with its deadline past, at the moment of counting."""
    return lambda now: Q(deadline_kind=kind) & overdue_q(now)


def _either(*conditions: Condition) -> Condition:
    return lambda now: functools.reduce(operator.or_, (condition(now) for condition in conditions))


def _condition_of(key: str) -> Condition:
    """Figure ``key``'s own condition, looked up when counting: it may be defined in the same call."""

    def where(now: datetime.datetime) -> Q:
        condition = _OWN[key].where
        assert condition is not None, key
        return condition(now)

    return where


def _sum_of(key: str, label: Any, definition: Any, parts: tuple[str, ...]) -> Figure:
    """What was due: the sum of the disjoint figures ``parts``, its list their union."""
    return Figure(key, label, definition, where=_either(*map(_condition_of, parts)), parts=parts)


def _timeliness(key: str, label: Any, definition: Any, *, on_time: str, due: str, late: str) -> Figure:
    """On time ÷ due: its tile links to what was due, and beside it to the late ones."""
    return Figure.rate(key, label, definition, (on_time, due), link=due, late=late)


# The figures that move with the clock: counted live at every request, never kept in running totals.
CLOCK_FIGURES = (
    "overdue",
    "due_soon",
    "accept_overdue",
    "mediate_overdue",
    "handler_overdue",
    "review_overdue",
    "petition_overdue",
)


def clock_values(referral: Mapping[str, Any], now: datetime.datetime) -> dict[str, int]:
    """The clock's figures of one referral (its ``state``, ``deadline_kind``, ``due_at``,
    ``due_soon_at`` and ``petition_due_on``) at ``now``, for the running totals (``ClockCell``),
    which are worked out in Python per referral. The same rules as the conditions above (``overdue_q``,
    ``due_soon_q``, ``_petition_overdue``), which count them in SQL; a test holds the two equal."""
    due_at, soon_at, kind = referral["due_at"], referral["due_soon_at"], referral["deadline_kind"]
    overdue = due_at is not None and due_at <= now
    petition_due = referral["petition_due_on"]
    values = {
        "overdue": overdue,
        "due_soon": soon_at is not None and soon_at <= now and due_at is not None and due_at > now,
        "accept_overdue": overdue and kind == DeadlineKind.ACCEPT,
        "mediate_overdue": overdue and kind == DeadlineKind.MEDIATE,
        "handler_overdue": overdue and kind in (DeadlineKind.ACCEPT, DeadlineKind.MEDIATE),
        "review_overdue": overdue and kind == DeadlineKind.REVIEW,
        "petition_overdue": referral["state"] in OPEN_STATES
        and petition_due is not None
        and petition_due < timezone.localtime(now).date(),
    }
    return {key: int(values[key]) for key in CLOCK_FIGURES}


def _all_but_draft() -> str:
    return ",".join(s for s in State.values if s != State.DRAFT)


define(
    Figure(
        "total",
        gettext_lazy("受理案件"),
        gettext_lazy(
            "所选期间内收到（按信访登记日期）、您有权查看的访调对接案件数。"
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
        where=overdue_q,
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
        where=due_soon_q,
        params={"due_soon": "true"},
    ),
    Figure.rate(
        "success_rate",
        gettext_lazy("调解成功率"),
        gettext_lazy("调解成功 ÷ 调解结束（书面协议和口头协议都算达成协议）。"),
        ("succeeded", "concluded"),
    ),
    # --- Timeliness: what was on time ÷ what was due (the answered, plus the late still open). -----
    # A rate over the finished cases alone reads 100 % while cases sit past their deadline unanswered;
    # the late open ones are counted live (the clock moves), the rest comes from the running totals.
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
        "answered",
        gettext_lazy("已答复"),
        gettext_lazy(
            "接收单位已作出答复的案件：已受理的（含此后已结束、已办结的），以及被退回后尚未再次移交的"
            "（待信访部门处理或已直接办结）。"
        ),
        where=lambda now: _answered(),
    ),
    Figure(
        "answered_on_time",
        gettext_lazy("按期答复"),
        gettext_lazy("已答复案件中，在受理期限内受理、或在受理期限内退回（最近一次退回）的案件。"),
        where=lambda now: _answered() & _answered_in_time(),
    ),
    Figure(
        "accept_overdue",
        gettext_lazy("超期未受理"),
        gettext_lazy("接收单位既未受理也未退回、受理期限已过的案件（按当前时刻计算）。"),
        where=_overdue_at(DeadlineKind.ACCEPT),
    ),
    Figure(
        "handler_overdue",
        gettext_lazy("接收单位超期"),
        gettext_lazy(
            "在接收单位办理、受理期限或调解期限已过的案件（按当前时刻计算）。"
            "调解结束后等待信访部门审核办结的案件不计入接收单位，见「审核超期」。"
        ),
        where=lambda now: Q(deadline_kind__in=(DeadlineKind.ACCEPT, DeadlineKind.MEDIATE)) & overdue_q(now),
    ),
    _sum_of(
        "acceptance_due",
        gettext_lazy("应答复"),
        gettext_lazy("受理期限已届满或已作出答复的案件：已答复 + 超期未受理。"),
        parts=("answered", "accept_overdue"),
    ),
    Figure(
        "acceptance_late",
        gettext_lazy("受理超期"),
        gettext_lazy("应答复而未按期答复的案件：超期后才受理或退回的，以及至今超期未受理的。"),
        where=_either(lambda now: _answered() & ~_answered_in_time(), _overdue_at(DeadlineKind.ACCEPT)),
    ),
    _timeliness(
        "timely_acceptance_rate",
        gettext_lazy("及时受理率"),
        gettext_lazy(
            "按期答复 ÷ 应答复。应答复 = 已受理或已退回的案件 + 受理期限已过仍未受理的案件；"
            "退回的案件按退回是否在受理期限内计。"
        ),
        on_time="answered_on_time",
        due="acceptance_due",
        late="acceptance_late",
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
        "mediate_overdue",
        gettext_lazy("调解超期"),
        gettext_lazy("仍在调解、调解期限（含延长）已过的案件；中止调解期间期限停止计算，不计入。"),
        where=_overdue_at(DeadlineKind.MEDIATE),
    ),
    _sum_of(
        "conclusion_due",
        gettext_lazy("应调结"),
        gettext_lazy("调解结束的案件 + 仍在调解、调解期限已过的案件。"),
        parts=("concluded", "mediate_overdue"),
    ),
    Figure(
        "conclusion_late",
        gettext_lazy("调结超期"),
        gettext_lazy("超过调解期限才结束的案件，以及至今仍超期在调解的案件。"),
        where=_either(
            lambda now: Q(concluded_at__isnull=False, concluded_on_time=False), _overdue_at(DeadlineKind.MEDIATE)
        ),
    ),
    _timeliness(
        "on_time_conclusion_rate",
        gettext_lazy("按期调结率"),
        gettext_lazy("按期调结 ÷ 应调结（调解结束的 + 调解期限已过仍在调解的）。中止期间不计入期限。"),
        on_time="concluded_on_time",
        due="conclusion_due",
        late="conclusion_late",
    ),
    Figure(
        "closed_on_time",
        gettext_lazy("按期办结"),
        format_lazy(
            gettext_lazy("在审核办结期限内办结的案件：调解结束（或被退回）之日起{days}个工作日内由信访部门审核办结。"),
            days=settings.FANGDIAO["REVIEW_WORKING_DAYS"],
        ),
        where=lambda now: Q(state=State.CLOSED, closed_on_time=True),
    ),
    Figure(
        "review_overdue",
        gettext_lazy("审核超期"),
        gettext_lazy("调解已结束或被退回、等待信访部门审核办结且审核期限已过的案件。"),
        where=_overdue_at(DeadlineKind.REVIEW),
    ),
    _sum_of(
        "closing_due",
        gettext_lazy("应办结"),
        gettext_lazy("已办结的案件 + 审核办结期限已过仍未办结的案件。"),
        parts=("closed", "review_overdue"),
    ),
    Figure(
        "closing_late",
        gettext_lazy("办结超期"),
        gettext_lazy("超过审核办结期限才办结的案件，以及至今超期未办结的案件。"),
        where=_either(lambda now: Q(state=State.CLOSED) & ~Q(closed_on_time=True), _overdue_at(DeadlineKind.REVIEW)),
    ),
    _timeliness(
        "closed_on_time_rate",
        gettext_lazy("按期办结率"),
        gettext_lazy("按期办结 ÷ 应办结（已办结的 + 审核期限已过仍未办结的）。"),
        on_time="closed_on_time",
        due="closing_due",
        late="closing_late",
    ),
    Figure(
        "petition_on_time",
        gettext_lazy("信访按期办结"),
        format_lazy(
            gettext_lazy(
                "在信访办理期限内（信访受理之日起{days}日，末日为节假日的顺延；经批准延长的从其延长）办结的案件。"
            ),
            days=settings.FANGDIAO["PETITION_DAYS"],
        ),
        where=lambda now: Q(state=State.CLOSED) & _petition_closed_in_time(),
    ),
    Figure(
        "petition_overdue",
        gettext_lazy("信访超期"),
        gettext_lazy("尚未办结、信访办理期限已过的案件（含草稿）。"),
        where=_petition_overdue,
    ),
    _sum_of(
        "petition_due",
        gettext_lazy("信访应办结"),
        gettext_lazy("已办结的案件 + 信访办理期限已过仍未办结的案件。"),
        parts=("closed", "petition_overdue"),
    ),
    Figure(
        "petition_late",
        gettext_lazy("信访办理超期"),
        gettext_lazy("超过信访办理期限才办结的案件，以及至今超期未办结的案件。"),
        where=_either(lambda now: Q(state=State.CLOSED) & ~_petition_closed_in_time(), _petition_overdue),
    ),
    _timeliness(
        "petition_on_time_rate",
        gettext_lazy("信访按期办结率"),
        gettext_lazy("信访按期办结 ÷ 信访应办结（已办结的 + 信访办理期限已过仍未办结的）。"),
        on_time="petition_on_time",
        due="petition_due",
        late="petition_late",
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

# Conditions for the links of "本级" rows (a referral held by a county or city body: a justice bureau
# before it routes it to a township, or a county or city committee mediating it): not numbers of their own.
for _level in (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY):
    define(
        Figure(
            f"level_{_level.value}",
            format_lazy(gettext_lazy("{level}本级案件"), level=_level.label),
            format_lazy(
                gettext_lazy(
                    "接收单位在{level}本级的案件：司法局尚未分派到镇街的，以及{level}级调委会调解（含升级调解）的。"
                ),
                level=_level.label,
            ),
            where=lambda now, level=_level.value: Q(region__level=level),
        )
    )

# 升级调解 and 化解 by tier (镇街 → 县区 → 市): where each mediation ended. A round that ended without
# agreement and was escalated counts as concluded, unresolved, at the tier it left (``escalated_from``:
# the tier before the first escalation); the referral's current round counts at its current tier.
define(
    Figure(
        "escalated",
        gettext_lazy("升级调解"),
        gettext_lazy("调委会未能化解（调解终止或调解超期），由司法局升级至县(区)级或市级调委会调解的案件。"),
        where=lambda now: Q(escalated_at__isnull=False),
        params={"escalated": "true"},
    )
)
for _tier in Tier:
    define(
        Figure(
            f"{_tier.value}_concluded",
            format_lazy(gettext_lazy("{tier}调解结束"), tier=_tier.label),
            format_lazy(
                gettext_lazy(
                    "在{tier}调委会调解结束的案件：本轮调解在该层级结束的（含此后已办结的），"
                    "以及在该层级未能化解、升级至更高层级的（计为该层级未化解）。"
                ),
                tier=_tier.label,
            ),
            where=lambda now, t=_tier.value: Q(tier=t, concluded_at__isnull=False) | Q(escalated_from=t),
        ),
        Figure(
            f"{_tier.value}_succeeded",
            format_lazy(gettext_lazy("{tier}调解成功"), tier=_tier.label),
            format_lazy(
                gettext_lazy("在{tier}调委会达成调解协议（书面或口头）的案件，含此后已办结的。"), tier=_tier.label
            ),
            where=lambda now, t=_tier.value: Q(tier=t) & succeeded_q(now),
        ),
        Figure.rate(
            f"{_tier.value}_success_rate",
            format_lazy(gettext_lazy("{tier}化解率"), tier=_tier.label),
            format_lazy(gettext_lazy("{tier}调解成功 ÷ {tier}调解结束。"), tier=_tier.label),
            (f"{_tier.value}_succeeded", f"{_tier.value}_concluded"),
        ),
    )

# Counts of a breakdown row (by township, county, category, month).
ROW_FIGURES = (
    "total",
    "open",
    "overdue",
    "handler_overdue",
    "review_overdue",
    "due_soon",
    "accepted",
    "concluded",
    "succeeded",
    "failed",
    "closed",
)
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


def sources() -> list[StatsSource]:
    """Other apps' figures, as their ``Extension`` carries them (``referrals/registry.py``)."""
    from referrals.registry import registry

    return registry.stats_sources


def source_lister(name: str) -> Lister | None:
    for source in sources():
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

DOCS_BEGIN = "<!-- figures:begin (generated from referrals/stats FIGURES; see below to refresh) -->"
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
