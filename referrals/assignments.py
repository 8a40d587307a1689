"""交办件: referrals handed down by a higher petition bureau (国家信访局的「国专件」, 省信访局的「省专件」,
the city bureau's own) in numbered batches, each with a day by which the handling must be reported
back (上报办结) — 「国家信访局交办'国专件'2批共2件 … 省信访局交办'省专件'4批共53件，已全部依法依规办结」.

The one place that writes an assignment and counts them, for the referral page, the API, the list
filter, the reminder sweep and the dashboard:

- **Who** records the assignment (``record_assignment``, also with the draft at ``POST
  /api/referrals/``), corrects it while it is not reported, and reports back (``report_back``): an
  officer or a reviewer of the referral's origin petition office — the office the higher bureau
  handed the case to. Everyone who may see the referral sees its assignment.
- **When**: recording or correcting, until the report is made; reporting back, once the mediation
  has ended (调解成功 / 调解终止) or the referral is closed, and only once.
- **The report-back clock** (``report_due_on``) is a clock like the others: the sweep tells the
  origin office when it is near (``DUE_SOON_DAYS``) and the office and the supervising bureau when
  it has passed without a report (``DeadlineKind.REPORT``, exactly once per day and level). It runs
  on closed referrals too: the report usually follows the closure.
- **The figures** by level and batch: 交办 every assignment the reader may see; 调解结束 and 已办结
  with the statistics' own definitions; 已上报 reported; 逾期未上报 not reported with the day
  passed; 逾期上报 reported after the day.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.uploads import UploadRejected, sniff
from referrals import permissions
from referrals.bureau import keep_paper
from referrals.errors import InvalidInput
from referrals.leader_cases import YEAR_RANGE, check_date, parse_year
from referrals.models import Assignment, DeadlineKind, Referral, State
from referrals.registry import RECORD, STEP, Action, Extension, Panel, Section
from referrals.reminders import announce_clock, day_clock_q, sweep_clock, told
from referrals.stats import FIGURES
from referrals.steps import step
from townships.validators import FORMULA_START, normalise_name

if TYPE_CHECKING:
    from referrals.permissions import Actor

Level = Assignment.Level
BATCH_MAX = Assignment._meta.get_field("batch").max_length
REPORT_MAX = 2000
LEVEL_ORDER = {value: n for n, value in enumerate(Level.values)}
# A report can be made once the mediation has ended: what there is to report.
REPORTABLE_STATES = (State.SUCCEEDED, State.FAILED, State.CLOSED)
COLUMNS = ("received", "concluded", "closed", "reported", "overdue", "reported_late")


# --- The rule --------------------------------------------------------------------------------


def keeps_assignments(actor: Actor, referral: Referral) -> bool:
    """Who records an assignment and reports back: the origin office's officers and reviewers."""
    return actor.origin_officer or actor.origin_reviewer


def assignment_of(referral: Referral) -> Assignment | None:
    try:
        return referral.assignment
    except Assignment.DoesNotExist:
        return None


def may_record(referral: Referral) -> bool:
    """Recorded or corrected until the report is made."""
    a = assignment_of(referral)
    return a is None or a.reported_on is None


def may_report(referral: Referral) -> bool:
    a = assignment_of(referral)
    return a is not None and a.reported_on is None and referral.state in REPORTABLE_STATES


def report_overdue_q(today: datetime.date, prefix: str = "") -> Q:
    """Not reported, and the day to report by has passed (a deadline day is whole)."""
    return Q(**{f"{prefix}reported_on__isnull": True, f"{prefix}report_due_on__lt": today})


# --- Writing ---------------------------------------------------------------------------------


def check_assignment(
    *, level: str, batch: str, assigned_on: datetime.date | None, report_due_on: datetime.date | None
) -> dict[str, Any]:
    """The assignment as it is stored; ``InvalidInput`` naming every mistake (keys as the API's)."""
    errors: dict[str, list[str]] = {}
    batch = normalise_name(batch or "")
    if level not in Level.values:
        errors["level"] = [_("请选择交办单位：国家信访局、省信访局或市信访局。")]
    if not batch:
        errors["batch"] = [_("请填写交办批次，例如“2026年第3批”。")]
    elif len(batch) > BATCH_MAX:
        errors["batch"] = [_("批次不能超过%d个字。") % BATCH_MAX]
    elif batch.startswith(FORMULA_START):
        errors["batch"] = [_("批次不能以 =、+、-、@ 开头。")]
    check_date(errors, "assigned_on", assigned_on, _("请填写交办日期。"))
    if report_due_on is None:
        errors["report_due_on"] = [_("请填写上报期限。")]
    elif assigned_on is not None and "assigned_on" not in errors and report_due_on < assigned_on:
        errors["report_due_on"] = [_("上报期限不能早于交办日期（%s）。") % assigned_on.isoformat()]
    elif not YEAR_RANGE[0] <= report_due_on.year <= YEAR_RANGE[1]:  # a typo in the year
        errors["report_due_on"] = [_("上报期限有误，请检查年份。")]
    if errors:
        raise InvalidInput(errors)
    return {"level": level, "batch": batch, "assigned_on": assigned_on, "report_due_on": report_due_on}


def assignment_data(a: Assignment) -> dict[str, Any]:
    """What the timeline keeps of an assignment."""
    return {
        "level": a.level,
        "level_label": str(Level(a.level).label),
        "batch": a.batch,
        "assigned_on": a.assigned_on.isoformat(),
        "report_due_on": a.report_due_on.isoformat(),
    }


def write_assignment(referral: Referral, *, by, clean: dict[str, Any], now: datetime.datetime) -> Assignment:
    """Store checked values (``check_assignment``) inside the caller's step: the first time, or a
    correction of one not yet reported."""
    a = assignment_of(referral) or Assignment(referral=referral)
    for key, value in clean.items():
        setattr(a, key, value)
    a.recorded_by = by
    a.recorded_at = now
    a.save()
    referral.assignment = a
    return a


def record_assignment(
    referral: Referral,
    *,
    by,
    level: str,
    batch: str,
    assigned_on: datetime.date | None,
    report_due_on: datetime.date | None,
) -> Assignment:
    """Record that a higher bureau handed the referral down (登记交办件), or correct the record.

    Who: the origin office's officers and reviewers. When: not yet reported (409 otherwise)."""
    clean = check_assignment(level=level, batch=batch, assigned_on=assigned_on, report_due_on=report_due_on)
    with step(referral, by=by, action="record_assignment") as s:
        before = assignment_of(s.referral)
        previous = assignment_data(before) if before is not None else None
        a = write_assignment(s.referral, by=by, clean=clean, now=s.now)
        s.note = _("%(level)s交办（%(batch)s），%(due)s前上报办结") % {
            "level": Level(a.level).label,
            "batch": a.batch,
            "due": a.report_due_on.isoformat(),
        }
        s.data = assignment_data(a) | ({"previous": previous} if previous else {})
    return a


def report_back(referral: Referral, *, by, reported_on: datetime.date | None, report: str, file=None) -> Assignment:
    """Record the report to the bureau that handed the case down (上报办结): the day, what was
    reported and, optionally, the report itself as sent (a scan or a document).

    Who: the origin office's officers and reviewers. When: the mediation has ended or the referral is
    closed, and there is an assignment not yet reported (409 otherwise)."""
    errors: dict[str, list[str]] = {}
    report = (report or "").strip()
    if not report:
        errors["report"] = [_("请填写上报内容（办理结果摘要）。")]
    elif len(report) > REPORT_MAX:
        errors["report"] = [_("上报内容不能超过%d个字。") % REPORT_MAX]
    check_date(errors, "reported_on", reported_on, _("请填写上报日期。"))
    read = None
    if file is not None:
        try:
            read = sniff(file)
        except UploadRejected as exc:
            errors["file"] = [exc.message]
    if errors:
        raise InvalidInput(errors)
    with step(referral, by=by, action="report_back") as s:
        a = s.referral.assignment
        if reported_on < a.assigned_on:
            raise InvalidInput({"reported_on": [_("上报日期不能早于交办日期（%s）。") % a.assigned_on.isoformat()]})
        a.reported_on = reported_on
        a.report = report
        a.reported_by = by
        a.reported_at = s.now
        if read is not None:
            folder = f"assignment-reports/{a.referral_id}"
            a.report_file_name, a.report_file_type = keep_paper(a.report_file, folder, file, read)
        a.save()
        s.note = report
        s.data = assignment_data(a) | {
            "reported_on": reported_on.isoformat(),
            "late": reported_on > a.report_due_on,
            "file": bool(read),
        }
    return a


# --- Reading ---------------------------------------------------------------------------------


def assignment_json(referral: Referral, user=None, full: bool = False) -> dict[str, Any] | None:
    """``assigned_by`` of the referral's JSON."""
    a = assignment_of(referral)
    if a is None:
        return None
    today = timezone.localdate()
    return {
        **assignment_data(a),
        "report_overdue": a.reported_on is None and a.report_due_on < today,
        "reported_on": a.reported_on.isoformat() if a.reported_on else None,
        "report": a.report if a.reported_on else None,
        "report_file": reverse("referrals:assignment_report", args=[referral.pk]) if a.report_file else None,
    }


def filter_condition(value: str, errors: dict[str, list[str]]) -> Q | None:
    """``?assigned=``: ``national``, ``provincial``, ``city`` (several with commas), or ``any``."""
    levels = [v.strip() for v in value.split(",") if v.strip()]
    if levels == ["any"]:
        return Q(assignment__isnull=False)
    unknown = [v for v in levels if v not in Level.values]
    if unknown or not levels:
        shown = ", ".join(unknown) or value
        errors["assigned"] = [_("未知的交办单位：%s（应为 national、provincial、city 或 any）") % shown]
        return None
    return Q(assignment__level__in=levels)


REPORT_STATES = {"reported", "pending", "overdue", "late"}


def report_condition(value: str, errors: dict[str, list[str]], today: datetime.date) -> Q | None:
    """``?report=``: ``reported``, ``pending`` (not yet), ``overdue`` (not yet, past the day) or
    ``late`` (reported after the day); each implies an assignment."""
    if value == "reported":
        return Q(assignment__reported_on__isnull=False)
    if value == "pending":
        return Q(assignment__isnull=False, assignment__reported_on__isnull=True)
    if value == "overdue":
        return report_overdue_q(today, prefix="assignment__")
    if value == "late":
        return Q(assignment__reported_on__gt=F("assignment__report_due_on"))
    errors["report"] = [_("未知的上报状态：%s（应为 reported、pending、overdue 或 late）") % value]
    return None


@dataclass(frozen=True)
class Scope:
    year: int | None = None
    level: str | None = None


def parse_scope(params: Mapping[str, str]) -> Scope:
    """``year`` (of the day assigned) and ``level``; ``InvalidInput`` naming each bad one."""
    errors: dict[str, list[str]] = {}
    year = parse_year(params.get("year") or "", errors)
    level = (params.get("level") or "").strip() or None
    if level is not None and level not in Level.values:
        errors["level"] = [_("未知的交办单位：%s（应为 national、provincial 或 city）") % level]
    if errors:
        raise InvalidInput(errors)
    return Scope(year=year, level=level)


@dataclass
class Batch:
    level: str
    batch: str
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)

    def list_query(self, **extra: str) -> str:
        from urllib.parse import urlencode

        return urlencode({"assigned": self.level, "assigned_batch": self.batch, **extra})


@dataclass
class Report:
    scope: Scope
    batches: list[Batch]
    generated_at: datetime.datetime

    @property
    def totals(self) -> dict[str, int]:
        return {key: sum(b.figures[key] for b in self.batches) for key in COLUMNS}

    def by_level(self) -> list[dict[str, Any]]:
        """Per level: its batches and figures, in the report's order (national first)."""
        levels: dict[str, dict[str, Any]] = {}
        for b in self.batches:
            row = levels.setdefault(
                b.level, {"level": b.level, "label": b.level_label, "batches": 0, **dict.fromkeys(COLUMNS, 0)}
            )
            row["batches"] += 1
            for key in COLUMNS:
                row[key] += b.figures[key]
        return list(levels.values())

    @property
    def summary(self) -> str:
        """The report's sentences, one per level."""
        return "；".join(
            _(
                "%(label)s交办%(batches)d批共%(received)d件，已办结%(closed)d件，已上报%(reported)d件，逾期未上报%(overdue)d件"
            )
            % row
            for row in self.by_level()
        )


def assignments_visible_to(user) -> QuerySet[Assignment]:
    return Assignment.objects.filter(referral__in=permissions.referrals_visible_to(user))


def report(user, scope: Scope, *, now: datetime.datetime | None = None) -> Report:
    """The figures by level and batch over the assignments whose referral ``user`` may see: one
    query, each flag an ``EXISTS`` with the statistics' own condition on the referral."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    # A merged referral counts nowhere (referrals/merging.py), as in the list its numbers open.
    qs = assignments_visible_to(user).filter(referral__merged_into__isnull=True)
    if scope.year is not None:
        qs = qs.filter(assigned_on__year=scope.year)
    if scope.level is not None:
        qs = qs.filter(level=scope.level)
    rows = qs.annotate(
        is_concluded=Exists(Referral.objects.filter(FIGURES["concluded"].where(now), pk=OuterRef("referral_id"))),
        is_closed=Exists(Referral.objects.filter(FIGURES["closed"].where(now), pk=OuterRef("referral_id"))),
    ).values_list("level", "batch", "is_concluded", "is_closed", "reported_on", "report_due_on")
    batches: dict[tuple[str, str], Batch] = {}
    for level, batch, concluded, closed, reported_on, due in rows:
        b = batches.setdefault((level, batch), Batch(level, batch))
        f = b.figures
        f["received"] += 1
        f["concluded"] += concluded
        f["closed"] += closed
        f["reported"] += reported_on is not None
        f["overdue"] += reported_on is None and due < today
        f["reported_late"] += reported_on is not None and reported_on > due
    ordered = sorted(batches.values(), key=lambda b: (LEVEL_ORDER[b.level], b.batch))
    return Report(scope=scope, batches=ordered, generated_at=now)


def figure_labels() -> list[tuple[str, Any, Any]]:
    """(key, label, definition) of each column; 调解结束 and 已办结 are the statistics' own."""
    return [
        ("received", gettext_lazy("交办"), gettext_lazy("交办日期在所选年度、您有权查看的交办件。")),
        ("concluded", FIGURES["concluded"].label, FIGURES["concluded"].definition),
        ("closed", FIGURES["closed"].label, FIGURES["closed"].definition),
        ("reported", gettext_lazy("已上报"), gettext_lazy("已登记上报办结情况的交办件。")),
        ("overdue", gettext_lazy("逾期未上报"), gettext_lazy("上报期限已过（期限当日不算超期）而尚未上报的交办件。")),
        ("reported_late", gettext_lazy("逾期上报"), gettext_lazy("上报日期晚于上报期限的交办件。")),
    ]


def report_json(rep: Report) -> dict[str, Any]:
    return {
        "scope": {
            "year": rep.scope.year,
            "level": rep.scope.level,
            "generated_at": timezone.localtime(rep.generated_at).isoformat(),
        },
        "summary": rep.summary,
        "totals": {"batches": len(rep.batches), **rep.totals},
        "levels": rep.by_level(),
        "batches": [
            {"level": b.level, "level_label": b.level_label, "batch": b.batch, **b.figures} for b in rep.batches
        ],
    }


# --- The reminder sweep -------------------------------------------------------------------------


def _report_candidates(level: str, today: datetime.date) -> QuerySet[Referral]:
    return (
        Referral.objects.filter(
            day_clock_q("assignment__report_due_on", level, today), assignment__reported_on__isnull=True
        )
        .exclude(state=State.DRAFT)
        .exclude(told(DeadlineKind.REPORT, "assignment__report_due_on", level))
        .select_related("origin", "target", "assignment")
        .order_by("assignment__report_due_on", "pk")
    )


def sweep_report_deadlines(now: datetime.datetime | None = None) -> int:
    """The report-back clock entering "due soon" (to the origin office) or "overdue" (to the office
    and the supervising bureau), once per ``report_due_on`` and level: a corrected day earns fresh
    reminders, a report ends them. Closed referrals count: the report usually follows the closure."""
    today = timezone.localtime(now or timezone.now()).date()
    return sweep_clock(lambda level: _report_candidates(level, today), _announce_report)


def _announce_report(referral: Referral, level: str) -> bool:
    return announce_clock(
        referral,
        level,
        kind=DeadlineKind.REPORT,
        due_on=referral.assignment.report_due_on,
        audiences=("origin", "supervisors"),
        titles=(
            _("%(number)s 交办件上报期限将于%(due)s届满"),
            _("%(number)s 交办件已超过上报期限(%(due)s)，尚未上报"),
        ),
    )


# --- The referral page's panel --------------------------------------------------------------


def assignment_panel(request, referral: Referral) -> dict | None:
    """交办件: the assignment and its report, with the form to record or correct it for those who
    keep it. Not shown to others while there is none."""
    from referrals.forms import AssignmentForm

    a = assignment_of(referral)
    can_record = permissions.can(request.user, referral, "record_assignment")
    if a is None and not can_record:
        return None
    bound = getattr(request, "bound_forms", {})
    form = None
    if can_record:
        form = bound.get("record_assignment") or AssignmentForm(
            referral=referral, user=request.user, auto_id="id_record_assignment_%s"
        )
    return {
        "assignment": a,
        "json": assignment_json(referral),
        "form": form,
        "url": reverse("referrals:action", args=[referral.pk, "record_assignment"]),
        "open": "record_assignment" in bound,
    }


# --- The registry ------------------------------------------------------------------------------


def extension() -> Extension:
    """The two actions, the referral's ``assigned_by``, the panel and the sweep (``ReferralsConfig.ready``)."""
    from referrals.forms import AssignmentForm, ReportBackForm
    from referrals.serializers import AssignmentSerializer, ReportBackSerializer

    return Extension(
        name="assignments",
        actions=(
            Action(
                "record_assignment",
                gettext_lazy("登记交办件"),
                who=keeps_assignments,
                when=may_record,
                kind=RECORD,
                run=record_assignment,
                form=AssignmentForm,
                serializer=AssignmentSerializer,
                order=62,
                done=gettext_lazy("已登记交办件。"),
                refused=gettext_lazy("本案已上报办结，交办信息不能再修改。"),
            ),
            Action(
                "report_back",
                gettext_lazy("上报办结"),
                who=keeps_assignments,
                when=may_report,
                kind=STEP,
                run=report_back,
                form=ReportBackForm,
                serializer=ReportBackSerializer,
                order=117,
                done=gettext_lazy("已登记上报办结。"),
                refused=gettext_lazy("只能对已调解结束或已办结、尚未上报的交办件上报办结。"),
            ),
        ),
        sections=(Section("assigned_by", (), assignment_json, select=("assignment",)),),
        panels=(Panel("assignment", "referrals/panel_assignment.html", assignment_panel, order=6),),
        sweeps={"report_deadlines": sweep_report_deadlines},
    )
