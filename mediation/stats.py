"""Mediation's figures for the statistics (agreements, follow-ups, supervision orders, sessions).

``referrals.stats`` may not import this app, so these figures reach it as a ``StatsSource`` (``SOURCE``)
and a running-totals ``Source`` (``CELLS``) in mediation's ``Extension`` (``mediation/extensions.py``). Each figure's
rows are defined once, by a queryset function below, and used both to count (aggregates over the
scoped referrals' records) and to pick the referrals a number links to (``?figure=<key>``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation.models import Agreement, FollowUp, MediationCell, MediationSession, SupervisionOrder
from referrals import rollup
from referrals.deadlines import followup_overdue_q
from referrals.models import Referral, State
from referrals.stats import AMOUNT, Figure, Item, ItemList, StatsSource
from townships import regions

# --- The rows behind each figure -------------------------------------------------------------


def current_agreements() -> QuerySet[Agreement]:
    """The agreement that ended each referral's current round (one per referral at most).

    An agreement of an earlier round, undone by reopening, no longer counts: the case is being
    mediated again, and counts again when that round ends.
    """
    return Agreement.objects.filter(current=True)


AGREEMENT_KINDS: dict[str, Q] = {
    "agreements": Q(),
    "agreements_written": Q(form=Agreement.Form.WRITTEN),
    "agreements_oral": Q(form=Agreement.Form.ORAL),
    "agreements_performed": Q(performance=Agreement.Performance.PERFORMED),
    "judicially_confirmed": Q(confirmation_result=Agreement.ConfirmationResult.CONFIRMED),
}


def latest_followups() -> QuerySet[FollowUp]:
    """Each visited referral's most recent follow-up (by visit date, then record order)."""
    later = FollowUp.objects.filter(referral=OuterRef("referral")).filter(
        Q(visited_on__gt=OuterRef("visited_on")) | Q(visited_on=OuterRef("visited_on"), pk__gt=OuterRef("pk"))
    )
    return FollowUp.objects.filter(~Exists(later))


SATISFIED = (FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.BASICALLY_SATISFIED)
FOLLOWUP_KINDS: dict[str, Q] = {
    "followups_visited": Q(),
    "satisfied": Q(satisfaction__in=SATISFIED),
    "dissatisfied": Q(satisfaction=FollowUp.Satisfaction.DISSATISFIED),
    # The parties' own ratings through their link, apart from the visits staff recorded.
    "rated_by_party": Q(source=FollowUp.Source.PARTY),
    "party_satisfied": Q(source=FollowUp.Source.PARTY, satisfaction__in=SATISFIED),
}


def overdue_orders(now: datetime.datetime) -> QuerySet[SupervisionOrder]:
    """Supervision orders still unanswered after their respond-by day."""
    return SupervisionOrder.objects.filter(responded_at__isnull=True, respond_by__lt=timezone.localdate(now))


def week_of(now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate(now)
    monday = today - datetime.timedelta(days=today.weekday())
    return monday, monday + datetime.timedelta(days=6)


def sessions_this_week(now: datetime.datetime) -> QuerySet[MediationSession]:
    return MediationSession.objects.filter(held_on__range=week_of(now))


def _referrals_with(rows: QuerySet) -> Q:
    return Q(pk__in=rows.values("referral_id"))


# --- Figures ------------------------------------------------------------------------------------


def _figure(key: str, label: Any, definition: Any, **kwargs: Any) -> Figure:
    return Figure(key, label, definition, source="mediation", **kwargs)


def _agreement_figure(key: str, label: Any, definition: Any) -> Figure:
    """The referrals whose current agreement is of kind ``key`` (``AGREEMENT_KINDS``)."""
    return _figure(
        key, label, definition, where=lambda now: _referrals_with(current_agreements().filter(AGREEMENT_KINDS[key]))
    )


def _followup_figure(key: str, label: Any, definition: Any) -> Figure:
    """The referrals whose latest follow-up is of kind ``key`` (``FOLLOWUP_KINDS``)."""
    return _figure(
        key, label, definition, where=lambda now: _referrals_with(latest_followups().filter(FOLLOWUP_KINDS[key]))
    )


def _rate(key: str, label: Any, definition: Any, ratio: tuple[str, str]) -> Figure:
    return Figure.rate(key, label, definition, ratio, source="mediation")


FIGURES = (
    _agreement_figure(
        "agreements",
        gettext_lazy("达成协议"),
        gettext_lazy("调解结束时达成的调解协议（书面或口头），每案以本轮协议计一份，与调解成功案件数一致。"),
    ),
    _agreement_figure(
        "agreements_written",
        gettext_lazy("书面协议"),
        gettext_lazy("以书面形式订立的调解协议（各方签名并加盖调委会印章后生效）。"),
    ),
    _agreement_figure(
        "agreements_oral",
        gettext_lazy("口头协议"),
        gettext_lazy("以口头形式达成、由调解员记录在案的调解协议。"),
    ),
    _figure(
        "amount_involved",
        gettext_lazy("协议涉及金额"),
        gettext_lazy("调解协议载明的涉及金额合计（元），未填写金额的协议按 0 计。"),
        unit=AMOUNT,
        link="agreements",
    ),
    _agreement_figure(
        "agreements_performed",
        gettext_lazy("已履行协议"),
        gettext_lazy("履行情况登记为“已履行”的调解协议（部分履行、未履行不计）。"),
    ),
    _agreement_figure(
        "judicially_confirmed",
        gettext_lazy("司法确认"),
        gettext_lazy("经人民法院裁定确认有效的调解协议（申请中、被驳回的不计）。"),
    ),
    _followup_figure(
        "followups_visited",
        gettext_lazy("已回访"),
        gettext_lazy("有回访记录的案件数；一案回访多次的，以最近一次回访为准。"),
    ),
    _followup_figure(
        "satisfied",
        gettext_lazy("满意或基本满意"),
        gettext_lazy("最近一次回访结果为“满意”或“基本满意”的案件。"),
    ),
    _followup_figure(
        "dissatisfied",
        gettext_lazy("回访不满意"),
        gettext_lazy("最近一次回访结果为“不满意”的案件，可由信访部门决定重新调解。"),
    ),
    _rate(
        "satisfaction_rate",
        gettext_lazy("回访满意率"),
        gettext_lazy("(满意 + 基本满意) ÷ 已回访，每案以最近一次回访为准。"),
        ("satisfied", "followups_visited"),
    ),
    _followup_figure(
        "rated_by_party",
        gettext_lazy("当事人在线评价"),
        gettext_lazy("最近一次回访是当事人通过个人链接自己所作评价的案件（计入回访满意率）。"),
    ),
    _followup_figure(
        "party_satisfied",
        gettext_lazy("当事人评价满意"),
        gettext_lazy("当事人在线评价为“满意”或“基本满意”的案件（以最近一次回访为准）。"),
    ),
    _rate(
        "party_satisfaction_rate",
        gettext_lazy("当事人自评满意率"),
        gettext_lazy("当事人评价满意 ÷ 当事人在线评价：只计当事人自己通过个人链接所作的评价，与工作人员回访分开显示。"),
        ("party_satisfied", "rated_by_party"),
    ),
    _figure(
        "followup_overdue",
        gettext_lazy("回访逾期"),
        format_lazy(
            gettext_lazy(
                "调解结束（达成协议或终止调解）后应在{days}日内回访（末日为休息日的顺延至下一个工作日），"
                "期限已过仍未回访的案件；重新调解的案件待本轮再次结束后重新计算。"
            ),
            days=settings.FANGDIAO["FOLLOWUP_DAYS"],
        ),
        where=followup_overdue_q,
    ),
    _figure(
        "supervision_overdue",
        gettext_lazy("督办逾期未复"),
        gettext_lazy("有督办单已过回复期限仍未回复的案件。"),
        where=lambda now: _referrals_with(overdue_orders(now)),
    ),
    _figure(
        "sessions_this_week",
        gettext_lazy("本周调解"),
        gettext_lazy("本周（周一至周日）有调解记录的案件。"),
        where=lambda now: _referrals_with(sessions_this_week(now)),
    ),
)


def _cases() -> Count:
    """Records counted by their referrals: a figure of orders or sessions counts cases, however many
    records a case has."""
    return Count("referral", distinct=True)


def compute(
    referrals: QuerySet[Referral], now: datetime.datetime, area: tuple[str, ...] = (), cells: Q | None = None
) -> dict[str, Any]:
    """Every mediation figure of the scoped referrals, in four queries (three from the totals).

    ``area``, when the scope is a region, narrows the records by their own indexed region code
    first (the result is the same: they also belong to scoped referrals). ``cells``, when the
    scope is one the running totals answer exactly (``Scope.uses_rollup``), picks its cells: the
    agreement and follow-up figures are then summed from ``MediationCell``.
    """
    scoped = referrals.values("pk")
    here = regions.within(area, field="region_code") if area else Q()
    if cells is not None:
        totals = MediationCell.objects.filter(cells).aggregate(**{c: Sum(c) for c in CELL_COUNTERS})
        values: dict[str, Any] = {c: totals[c] or 0 for c in CELL_COUNTERS}
    else:
        values = current_agreements().filter(here, referral__in=scoped).aggregate(**_agreement_totals())
        values["amount_involved"] = values["amount_involved"] or 0
        values |= latest_followups().filter(here, referral__in=scoped).aggregate(**_followup_totals())
    values |= overdue_orders(now).filter(referral__in=scoped).aggregate(supervision_overdue=_cases())
    # A clock figure: counted live, on the referral's own follow-up columns.
    values["followup_overdue"] = referrals.filter(followup_overdue_q(now)).count()
    values |= sessions_this_week(now).filter(referral__in=scoped).aggregate(sessions_this_week=_cases())
    return values


# --- Running totals (``MediationCell``, kept by ``referrals/rollup.py``) ---------------------------


def _agreement_totals() -> dict:
    return {"amount_involved": Sum("amount"), **{k: Count("pk", filter=q) for k, q in AGREEMENT_KINDS.items()}}


def _followup_totals() -> dict:
    return {k: Count("pk", filter=q) for k, q in FOLLOWUP_KINDS.items()}


CELL_COUNTERS = (*AGREEMENT_KINDS, "amount_involved", *FOLLOWUP_KINDS)


def _cell_queries(pk: int | None) -> list[QuerySet]:
    """The contribution of referral ``pk`` (every referral: None) to the cells, by the figures'
    own definitions: its current agreement and its latest follow-up, in its referral's cell."""
    key = rollup.key_of("referral__")
    queries = []
    for rows, totals in ((current_agreements(), _agreement_totals()), (latest_followups(), _followup_totals())):
        rows = rows.filter(referral__merged_into__isnull=True)  # as the referrals' own totals
        if pk is not None:
            rows = rows.filter(referral_id=pk)
        queries.append(rows.order_by().annotate(**key).values(*rollup.KEY).annotate(**totals))
    return queries


CELLS = rollup.Source("mediation", MediationCell, CELL_COUNTERS, _cell_queries)


# --- Dashboard lists -----------------------------------------------------------------------------


def _line(record: Any, text: str, meta: str, tone: str = "") -> Item:
    """A record's line (an order, a visit, a session): it leads to the record's referral."""
    return Item(referral_id=record.referral_id, number=record.referral.number, text=text, meta=meta, tone=tone)


def _excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def supervision_overdue_list(referrals: QuerySet[Referral], now: datetime.datetime, limit: int) -> ItemList:
    orders = overdue_orders(now).filter(referral__in=referrals.values("pk"))
    count = orders.aggregate(n=_cases())["n"]
    items = [
        _line(
            o,
            _("督办：%s") % _excerpt(o.note),
            _("回复期限 %(day)s · %(org)s")
            % {"day": o.respond_by.isoformat(), "org": o.addressed_to.name if o.addressed_to else ""},
            tone="bad",
        )
        for o in orders.select_related("referral", "addressed_to").order_by("respond_by", "pk")[:limit]
    ]
    return ItemList(("supervision_overdue",), count, items)


def dissatisfied_list(referrals: QuerySet[Referral], now: datetime.datetime, limit: int) -> ItemList:
    rows = latest_followups().filter(FOLLOWUP_KINDS["dissatisfied"], referral__in=referrals.values("pk"))
    items = [
        _line(f, _excerpt(f.note) or _("回访不满意"), _("回访日期 %s") % f.visited_on.isoformat(), tone="warn")
        for f in rows.select_related("referral").order_by("-visited_on", "-pk")[:limit]
    ]
    return ItemList(("dissatisfied",), rows.count(), items)


def followup_overdue_list(referrals: QuerySet[Referral], now: datetime.datetime, limit: int) -> ItemList:
    """The referrals whose follow-up is overdue (``followup_overdue``), the longest overdue first."""
    rows = referrals.filter(followup_overdue_q(now))
    today = timezone.localdate(now)
    items = [
        Item(
            referral_id=r.pk,
            number=r.number,
            text=f"{State(r.state).label} · {_excerpt(r.summary)}",
            meta=_("回访期限 %(day)s · 超期 %(late)d 天 · %(org)s")
            % {
                "day": r.followup_due_on.isoformat(),
                "late": (today - r.followup_due_on).days,
                "org": r.target.name if r.target else "",
            },
            tone="bad",
        )
        for r in rows.select_related("target").order_by("followup_due_on", "pk")[:limit]
    ]
    return ItemList(("followup_overdue",), rows.count(), items)


def sessions_this_week_list(referrals: QuerySet[Referral], now: datetime.datetime, limit: int) -> ItemList:
    sessions = sessions_this_week(now).filter(referral__in=referrals.values("pk"))
    count = sessions.aggregate(n=_cases())["n"]
    items = [
        _line(s, _excerpt(s.record), f"{s.held_on.isoformat()} · {s.location}")
        for s in sessions.select_related("referral").order_by("held_on", "pk")[:limit]
    ]
    return ItemList(("sessions_this_week",), count, items)


SOURCE = StatsSource(
    name="mediation",
    figures=FIGURES,
    compute=compute,
    lists={
        "supervision_overdue": supervision_overdue_list,
        "dissatisfied": dissatisfied_list,
        "followup_overdue": followup_overdue_list,
        "sessions_this_week": sessions_this_week_list,
    },
)
