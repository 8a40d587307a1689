"""The referral, its parties, its history and its clocks.

The state lives in an ``FSMField``; the transitions below are bare verbs that only set the fields
that follow from the change. Everything else a step needs — the lock, the permission, the required
elements, the timeline event, the deadline and the notifications — is in ``referrals/workflow.py``,
the only code that calls them.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.models import AppendOnlyQuerySet
from lib.sql import DaysBetween
from referrals import ethnic_groups
from townships import regions
from townships.categories import Category
from townships.models import Mediator, Organisation, Region


class State(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待受理")
    MEDIATING = "mediating", _("调解中")
    DECLINED = "declined", _("已退回")
    SUCCEEDED = "succeeded", _("调解成功")
    FAILED = "failed", _("调解终止")
    CLOSED = "closed", _("已办结")


OPEN_STATES = (
    State.DRAFT,
    State.SUBMITTED,
    State.MEDIATING,
    State.DECLINED,
    State.SUCCEEDED,
    State.FAILED,
)
CONCLUDED_STATES = (State.SUCCEEDED, State.FAILED)


class ScopeGround(models.TextChoices):
    """Suitable grounds for referral (docs/domain.md#scope); one must be chosen."""

    CIVIL_BETWEEN_CITIZENS = "civil_between_citizens", _("公民之间涉及人身、财产权益和其他权益的纠纷")
    CIVIL_CITIZEN_ORGANISATION = "civil_citizen_organisation", _("公民与法人或其他组织之间的民事纠纷")
    CIVIL_WITH_ADMINISTRATIVE_ORGAN = (
        "civil_with_administrative_organ",
        _("与行政机关之间涉及民事权利义务的纠纷"),
    )
    OTHER_LAWFUL = "other_lawful", _("其他依法可以调解的信访事项")


class Exclusion(models.TextChoices):
    """Matters that may not be referred (docs/domain.md#scope); each must be confirmed absent."""

    RESERVED_TO_SPECIALISED_ORGAN = "reserved_to_specialised_organ", _("法律法规规定由专门机关管辖处理")
    IN_LEGAL_PROCEEDINGS = "in_legal_proceedings", _("应当或已经进入诉讼、仲裁等法定途径且未终结(涉法涉诉)")
    ADMINISTRATIVE_DISPUTE = "administrative_dispute", _("与行政机关之间的行政争议")
    PARTY_REFUSES = "party_refuses", _("一方当事人明确拒绝调解")
    OTHER_UNSUITABLE = "other_unsuitable", _("法律法规规定不宜调解的其他事项")


class DeclineReason(models.TextChoices):
    OUT_OF_SCOPE = "out_of_scope", _("不属于受理范围")
    PARTY_REFUSED = "party_refused", _("当事人拒绝调解")
    IN_LEGAL_PROCEEDINGS = "in_legal_proceedings", _("已进入法定程序")
    ADMINISTRATIVE_DISPUTE = "administrative_dispute", _("属于行政争议")
    RESERVED_TO_SPECIALISED_ORGAN = "reserved_to_specialised_organ", _("应由专门机关处理")
    DUPLICATE = "duplicate", _("重复移交")
    OTHER = "other", _("其他(须说明)")


class TerminationReason(models.TextChoices):
    """Why mediation ended without agreement (after the court online-mediation rules' list)."""

    PARTY_WITHDREW = "party_withdrew", _("当事人撤回调解申请")
    PARTY_UNREACHABLE = "party_unreachable", _("无法联系当事人")
    PARTY_REFUSES_TO_CONTINUE = "party_refuses_to_continue", _("当事人拒绝继续调解")
    VIEWS_TOO_FAR_APART = "views_too_far_apart", _("双方分歧较大，难以达成协议")
    DEADLINE_EXPIRED = "deadline_expired", _("调解期限届满未达成协议")
    REFUSED_TO_SIGN = "refused_to_sign", _("当事人拒绝签署调解协议")
    OTHER = "other", _("其他(须说明)")


class LegalRoute(models.TextChoices):
    """Routes that remain open after mediation ends without agreement (人民调解法 Art. 26)."""

    LITIGATION = "litigation", _("向人民法院提起诉讼")
    ARBITRATION = "arbitration", _("申请仲裁")
    ADMINISTRATIVE_REVIEW = "administrative_review", _("申请行政复议或行政裁决")
    PETITION = "petition", _("通过信访渠道反映")


class Outcome(models.TextChoices):
    AGREEMENT = "agreement", _("达成协议")
    TERMINATED = "terminated", _("终止调解")


class DeadlineKind(models.TextChoices):
    REFER = "refer", _("移交期限")
    ACCEPT = "accept", _("受理期限")
    MEDIATE = "mediate", _("调解期限")
    REVIEW = "review", _("审核办结期限")
    # The petition's own clock, kept beside the stage's (``petition_due_on``): only reminders use this kind.
    PETITION = "petition", _("信访办理期限")
    # The follow-up clock after conclusion (``followup_due_on``): only reminders use this kind.
    FOLLOWUP = "followup", _("回访期限")
    # A 交办件's report-back day (``Assignment.report_due_on``): only reminders use this kind.
    REPORT = "report", _("交办件上报期限")
    # A 复查 or 复核 request's answer day (``Appeal.due_on``): only reminders use this kind.
    APPEAL = "appeal", _("复查复核答复期限")


class Tier(models.TextChoices):
    """The level of the body that has the referral in hand (镇村 → 县级 → 市级), read from its region;
    a dispute a township committee cannot resolve is escalated up this ladder (``escalate``)."""

    TOWNSHIP = "township", _("镇(街)级")
    COUNTY = "county", _("县(区)级")
    CITY = "city", _("市级")

    @classmethod
    def of_region(cls, code: str) -> Tier:
        level = regions.level_of(code)
        return cls.TOWNSHIP if level >= regions.TOWNSHIP else cls.COUNTY if level == regions.COUNTY else cls.CITY


class DeadlineStatus(models.TextChoices):
    ON_TIME = "on_time", _("正常")
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超期")


def overdue_q(now: datetime.datetime) -> Q:
    """Past the current stage's deadline at ``now`` (a deadline day is whole: overdue from the next
    day's first moment, stored as ``due_at``). The list filter, the statistics and the reminders
    all use this one expression."""
    return Q(due_at__lte=now)


def due_soon_q(now: datetime.datetime) -> Q:
    """Within the warning period before the deadline and not yet overdue."""
    return Q(due_soon_at__lte=now, due_at__gt=now)


class ReferralQuerySet(models.QuerySet["Referral"]):
    def open(self) -> ReferralQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now: datetime.datetime | None = None) -> ReferralQuerySet:
        return self.filter(overdue_q(now or timezone.now()))

    def due_soon(self, now: datetime.datetime | None = None) -> ReferralQuerySet:
        return self.filter(due_soon_q(now or timezone.now()))


class Referral(ConcurrentTransitionMixin, models.Model):
    """A petition-born dispute carried from a petition office to mediation and back."""

    number = models.CharField(_("编号"), max_length=32, unique=True)
    petition_no = models.CharField(_("信访件编号"), max_length=64, blank=True)
    received_on = models.DateField(_("信访登记日期"))
    category = models.CharField(_("纠纷类别"), max_length=32, choices=Category.choices)
    summary = models.TextField(_("事实摘要"), max_length=2000)
    claims = models.TextField(_("诉求"), max_length=2000)
    # What the list's search box looks in (summary and party names), as one column so that a
    # trigram index on PostgreSQL can serve it; written with the draft, never edited by hand.
    search_text = models.TextField(blank=True, editable=False)
    # Its two-character pieces, for a two-character search (a name): filters.character_pairs.
    search_pairs = models.TextField(blank=True, editable=False)

    origin = models.ForeignKey(
        Organisation, verbose_name=_("移交单位"), on_delete=models.PROTECT, related_name="referrals_sent"
    )
    target = models.ForeignKey(
        Organisation,
        verbose_name=_("接收单位"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
        null=True,
        blank=True,
    )
    # Where the dispute is handled: the target's region (a township, or a county for a bureau),
    # copied as a code so that "in the supervisor's region" is a prefix match on one indexed column.
    region = models.ForeignKey(Region, verbose_name=_("属地"), on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=12, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )

    state = FSMField(_("状态"), max_length=16, choices=State.choices, default=State.DRAFT, protected=True)

    scope_ground = models.CharField(_("调解范围依据"), max_length=40, choices=ScopeGround.choices, blank=True)
    exclusions_absent = models.JSONField(_("已排除的不宜调解情形"), default=list, blank=True)

    lead_mediator = models.ForeignKey(
        Mediator, verbose_name=_("主调解员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mediators = models.ManyToManyField(Mediator, verbose_name=_("调解员"), blank=True, related_name="referrals")
    rights_explained = models.BooleanField(_("已告知权利义务"), default=False)

    submitted_at = models.DateTimeField(_("移交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("调解受理时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("调解结束时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The two durations whose medians the statistics show, kept by the database itself so that an
    # index can hold them in order: the median of a city's 400,000 is then read at its middle
    # position (``stats.sql.median_by_offset``) instead of sorting them all at every request.
    days_to_accept = models.GeneratedField(
        expression=DaysBetween("accepted_at", "submitted_at"), output_field=models.FloatField(), db_persist=True
    )
    days_to_conclude = models.GeneratedField(
        expression=DaysBetween("concluded_at", "accepted_at"), output_field=models.FloatField(), db_persist=True
    )
    # When the current stage began: the start of its clock (acceptance restarts on each routing).
    stage_started_at = models.DateTimeField(null=True, blank=True)
    # Start of the current mediation round (acceptance, or the last reopening).
    mediation_started_at = models.DateTimeField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("调解轮次"), default=0)
    # 调解层级: the handling body's level (``Tier``), kept by ``set_target``. ``escalated_from``: the tier
    # of the mediation before the first escalation (升级调解), which the statistics count as ended
    # there without resolution; ``escalated_at``: the last escalation.
    tier = models.CharField(_("调解层级"), max_length=8, choices=Tier.choices, default=Tier.TOWNSHIP)
    escalated_from = models.CharField(_("升级前层级"), max_length=8, choices=Tier.choices, blank=True)
    escalated_at = models.DateTimeField(_("升级调解时间"), null=True, blank=True)

    returns_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    ping_pong = models.BooleanField(_("反复退回"), default=False)
    # 催办次数: how often the petition office urged the handler of this referral while it was overdue.
    urge_count = models.PositiveSmallIntegerField(_("催办次数"), default=0)
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("重复件"), null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats"
    )
    # 合并: a duplicate folded into another referral of its office (``referrals/merging.py``): it keeps its
    # parties, files and timeline, takes no step, runs no clock and counts nowhere in the statistics.
    merged_into = models.ForeignKey(
        "self", verbose_name=_("已并入"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)

    # Facts fixed when a stage ends, kept for the statistics (no history lookups at count time):
    # how the current round of mediation ended, and whether acceptance and conclusion were on time.
    outcome = models.CharField(_("调解结果"), max_length=16, choices=Outcome.choices, blank=True)
    accepted_on_time = models.BooleanField(_("按期受理"), null=True, blank=True)
    # Whether the last return (退回) came within the acceptance deadline: a timely answer too.
    declined_on_time = models.BooleanField(_("按期退回"), null=True, blank=True)
    concluded_on_time = models.BooleanField(_("按期调结"), null=True, blank=True)
    # Whether the office closed it within its review deadline (审核办结期限).
    closed_on_time = models.BooleanField(_("按期办结"), null=True, blank=True)

    suspended_since = models.DateTimeField(_("中止时间"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("已延长天数"), default=0)
    review_note = models.TextField(_("审核意见"), max_length=2000, blank=True)

    # The current stage's deadline, stored so lists, filters and the reminder sweep can use indexes.
    deadline_kind = models.CharField(_("期限类型"), max_length=16, choices=DeadlineKind.choices, blank=True)
    deadline_started_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(_("到期日"), null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    due_soon_at = models.DateTimeField(null=True, blank=True)
    deadline_provisional = models.BooleanField(default=False)
    # The petition's own clock (信访工作条例 Art. 34): handled within 60 days of the office's acceptance
    # (受理日期, never before receipt; null only on rows written outside intake: counts as ``received_on``),
    # extended once by at most 30 days (``PetitionExtension``). ``petition_due_on`` is its deadline.
    petition_accepted_on = models.DateField(_("信访受理日期"), null=True, blank=True)
    petition_extension_days = models.PositiveSmallIntegerField(_("信访办理期限已延长天数"), default=0)
    petition_due_on = models.DateField(_("信访办理期限"), null=True, blank=True)
    petition_provisional = models.BooleanField(default=False)
    # The follow-up clock (回访期限): ``CLOCK_FOLLOWUP_DAYS`` (30) calendar days from the conclusion of
    # the current round (agreement or termination), rolled past rest days; cleared on reopening and
    # computed again at the next conclusion (``referrals/deadlines.py``). The round's first follow-up
    # visit (``followed_up_on``, written by mediation's ``add_followup``) satisfies it.
    followup_due_on = models.DateField(_("回访期限"), null=True, blank=True)
    followup_provisional = models.BooleanField(default=False)
    # The day the petitioner received the office's written reply (书面答复意见送达), recorded once the
    # referral is closed: the 30 days to ask for 复查 run from it (``referrals/appeals.py``).
    reply_delivered_on = models.DateField(_("答复意见送达日期"), null=True, blank=True)
    followed_up_on = models.DateField(_("回访日期"), null=True, blank=True)

    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    if TYPE_CHECKING:
        # For the type checker only: django-fsm-2 4.2.4 decorates ConcurrentTransitionMixin.__init__ with
        # ``typing.override``, which does not exist on Python 3.11, so the constructor (and with it the
        # class, ``Referral.objects``...) would read as Any.
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    class Meta:
        verbose_name = _("访调对接案件")
        verbose_name_plural = _("访调对接案件")
        ordering = ["-id"]
        indexes = [
            # A committee's referrals past draft from the index alone; its queues by state and clock.
            models.Index(fields=["target", "-id"], name="referral_target_recent", include=["state"]),
            models.Index(fields=["target", "state", "due_at"], name="referral_target_queue"),
            # With the state and the clock, an office's own figures and queues (``Scope(origin=…)``)
            # come from the index alone: its 82,000 referrals at 10⁶ without a heap read each.
            models.Index(
                fields=["origin", "-id"], name="referral_origin_recent", include=["state", "due_at", "due_soon_at"]
            ),
            models.Index(fields=["region_code", "-id"], name="referral_region_recent"),
            # The replies delivered in a year (复查复核's figures) without reading every visible referral.
            models.Index(
                fields=["reply_delivered_on"],
                name="referral_reply_delivered",
                condition=Q(reply_delivered_on__isnull=False),
            ),
            models.Index(fields=["state", "-id"], name="referral_state_recent"),
            models.Index(fields=["due_at"], name="referral_open_due", condition=Q(due_at__isnull=False)),
            models.Index(fields=["due_soon_at"], name="referral_open_due_soon", condition=Q(due_soon_at__isnull=False)),
            models.Index(fields=["petition_no"], name="referral_petition_no"),
            # The petition clock's reminder sweep reads open referrals by their petition deadline.
            models.Index(
                fields=["petition_due_on"], name="referral_open_petition_due", condition=Q(state__in=OPEN_STATES)
            ),
            # The follow-up sweep and the overdue follow-up figure read the follow-ups still to be made.
            models.Index(
                fields=["followup_due_on"],
                name="referral_followup_due",
                condition=Q(followup_due_on__isnull=False, followed_up_on__isnull=True),
            ),
            # Statistics read an area's referrals by region and period. On PostgreSQL the index also
            # carries every column the counts look at, so they come from the index alone
            # (index-only scan) instead of from pages scattered over the whole table.
            models.Index(
                fields=["region_code", "received_on"],
                name="referral_stats",
                include=[
                    "id",
                    "category",
                    "state",
                    "origin_id",
                    "submitted_at",
                    "accepted_at",
                    "concluded_at",
                    "closed_at",
                    "mediation_started_at",
                    "petition_due_on",
                    "outcome",
                    "returns_count",
                    "ping_pong",
                    "accepted_on_time",
                    "declined_on_time",
                    "concluded_on_time",
                    "closed_on_time",
                    "tier",
                    "escalated_from",
                    "escalated_at",
                    "merged_into",
                    "deadline_kind",
                    "due_at",
                    "due_soon_at",
                ],
            ),
            # The medians (``stats.compute.Figures.medians``): each duration with what a supervisor's
            # scope filters on, so that either way of reaching a median reads an index alone — in
            # the duration's order, to walk to the middle of a city's; by area, to sort a county's.
            *(
                models.Index(
                    fields=[column],
                    name=f"referral_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                    include=["id", "region_code", "received_on", "category", "state", "origin_id", "merged_into"],
                )
                for column in ("days_to_accept", "days_to_conclude")
            ),
            *(
                models.Index(
                    fields=["region_code", column],
                    name=f"referral_area_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                    include=["id", "received_on", "category", "state", "origin_id", "merged_into"],
                )
                for column in ("days_to_accept", "days_to_conclude")
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # --- Transitions: bare verbs, no I/O, no save (workflow.py does the rest) ---------------------

    def _enter_stage(self, at: datetime.datetime) -> None:
        self.stage_started_at = at

    def _within_current_deadline(self, at: datetime.datetime) -> bool:
        """Whether a stage ending at ``at`` ends by its stored deadline (a paused clock is never late)."""
        return self.due_on is None or timezone.localtime(at).date() <= self.due_on

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self, *, at: datetime.datetime) -> None:
        self.submitted_at = at
        self._enter_stage(at)

    @transition(field=state, source=State.SUBMITTED, target=State.SUBMITTED)
    def dispatch(self, *, target: Organisation, at: datetime.datetime) -> None:
        self.set_target(target)
        self._enter_stage(at)  # routing restarts the acceptance clock

    @transition(field=state, source=State.SUBMITTED, target=State.MEDIATING)
    def accept(self, *, lead: Mediator, at: datetime.datetime) -> None:
        self.accepted_on_time = self._within_current_deadline(at)
        self.lead_mediator = lead
        self.rights_explained = True
        self.accepted_at = at
        self.mediation_started_at = at
        self.round = 1
        self.extension_days = 0
        self._enter_stage(at)

    @transition(field=state, source=State.SUBMITTED, target=State.DECLINED)
    def decline(self, *, at: datetime.datetime) -> None:
        self.declined_on_time = self._within_current_deadline(at)
        self.returns_count += 1
        # Returned twice: the supervising bureau is told and may route it itself.
        self.ping_pong = self.returns_count >= 2
        self._enter_stage(at)

    @transition(field=state, source=State.SUBMITTED, target=State.DRAFT)
    def withdraw(self, *, at: datetime.datetime) -> None:
        # Back to the office's working paper: the referral is no longer "submitted" (the figure
        # counts non-drafts), and the refer clock (from ``received_on``) applies again.
        self.submitted_at = None
        self._enter_stage(at)

    @transition(field=state, source=State.DECLINED, target=State.SUBMITTED)
    def redirect(self, *, target: Organisation, at: datetime.datetime) -> None:
        self.set_target(target)
        self._enter_stage(at)

    @transition(field=state, source=State.MEDIATING, target=State.MEDIATING, conditions=[lambda r: not r.is_suspended])
    def extend(self, *, days: int) -> None:
        self.extension_days += days

    @transition(field=state, source=State.MEDIATING, target=State.MEDIATING, conditions=[lambda r: not r.is_suspended])
    def suspend(self, *, at: datetime.datetime) -> None:
        self.suspended_since = at

    @transition(field=state, source=State.MEDIATING, target=State.MEDIATING, conditions=[lambda r: r.is_suspended])
    def resume(self) -> None:
        self.suspended_since = None

    @transition(field=state, source=State.MEDIATING, target=State.SUCCEEDED, conditions=[lambda r: not r.is_suspended])
    def succeed(self, *, at: datetime.datetime) -> None:
        self.outcome = Outcome.AGREEMENT
        self.concluded_on_time = self._within_current_deadline(at)
        self.concluded_at = at
        self._enter_stage(at)

    @transition(field=state, source=State.MEDIATING, target=State.FAILED)
    def fail(self, *, at: datetime.datetime) -> None:
        # A suspended case may end (the party withdrew while waiting): the suspension ends with it.
        self.outcome = Outcome.TERMINATED
        self.concluded_on_time = self.is_suspended or self._within_current_deadline(at)
        self.suspended_since = None
        self.concluded_at = at
        self._enter_stage(at)

    @transition(field=state, source=[State.SUCCEEDED, State.FAILED, State.DECLINED], target=State.CLOSED)
    def close(self, *, note: str, at: datetime.datetime) -> None:
        self.closed_on_time = self._within_current_deadline(at)
        self.review_note = note
        self.closed_at = at
        self._enter_stage(at)

    @transition(field=state, source=[State.SUCCEEDED, State.FAILED, State.CLOSED], target=State.MEDIATING)
    def reopen(self, *, at: datetime.datetime) -> None:
        self.closed_at = None
        self.closed_on_time = None
        self._new_round(at)

    # From a failed round, or a stalled one (the rule: ``referrals/actions.py``); suspended or not.
    @transition(field=state, source=[State.MEDIATING, State.FAILED], target=State.MEDIATING)
    def escalate(self, *, target: Organisation, at: datetime.datetime) -> None:
        self.escalated_from = self.escalated_from or self.tier
        self.escalated_at = at
        self.set_target(target)
        self.suspended_since = None
        # The higher tier's own mediators: named by its first session (mediation's ``record_session``).
        self.lead_mediator = None
        self._new_round(at)

    def _new_round(self, at: datetime.datetime) -> None:
        self.concluded_at = None
        self.outcome = ""
        self.concluded_on_time = None
        self.mediation_started_at = at
        self.round += 1
        self.extension_days = 0
        self._enter_stage(at)

    # --- Small properties -------------------------------------------------------------------------

    def set_target(self, target: Organisation) -> None:
        self.target = target
        self.region = target.region
        self.region_code = target.region.code
        self.tier = Tier.of_region(target.region.code)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_since is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of_id is not None

    def deadline_status(self, now: datetime.datetime | None = None) -> str | None:
        if self.due_at is None:
            return None
        now = now or timezone.now()
        if now >= self.due_at:
            return DeadlineStatus.OVERDUE
        if self.due_soon_at and now >= self.due_soon_at:
            return DeadlineStatus.DUE_SOON
        return DeadlineStatus.ON_TIME


class Party(models.Model):
    class Role(models.TextChoices):
        PETITIONER = "petitioner", _("申请人(信访人)")
        RESPONDENT = "respondent", _("被申请人")

    class Kind(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人或其他组织")

    class ConsentMethod(models.TextChoices):
        WRITTEN = "written", _("书面同意")
        ORAL = "oral", _("口头同意(已记录)")
        ONLINE = "online", _("当事人在线确认")

    # What staff record (forms, API); ``online`` is given by the party through their link only.
    STAFF_CONSENT_CHOICES = [(m.value, m.label) for m in (ConsentMethod.WRITTEN, ConsentMethod.ORAL)]

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("当事人地位"), max_length=16, choices=Role.choices)
    kind = models.CharField(_("主体类型"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("姓名或名称"), max_length=100)
    id_number = models.CharField(_("身份证号或统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=8, blank=True, choices=ethnic_groups.CHOICES)
    consent_given_on = models.DateField(_("同意调解日期"), null=True, blank=True)
    consent_method = models.CharField(_("同意方式"), max_length=16, choices=ConsentMethod.choices, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["referral_id", "position", "id"]
        indexes = [models.Index(fields=["id_number"]), models.Index(fields=["phone"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def has_consent(self) -> bool:
        return bool(self.consent_given_on and self.consent_method)


class TimelineEvent(models.Model):
    """Append-only history of a referral: who did what, when, from which state to which."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=32)
    from_state = models.CharField(_("原状态"), max_length=16, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["referral_id", "at", "id"]
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Timeline events are append-only.")

    def get_action_label(self) -> str:
        from referrals.registry import registry

        return registry.event_label(self.action)

    def get_to_state_label(self) -> str:
        return str(State(self.to_state).label) if self.to_state in State.values else ""


class Handling(models.Model):
    """One organisation's turn with a referral: routed to it, and how its turn ended.

    Past handlers keep read access through these rows; returns and ping-pong are counted from them.
    """

    class Result(models.TextChoices):
        PENDING = "pending", _("办理中")
        DISPATCHED = "dispatched", _("已分派")
        DECLINED = "declined", _("已退回")
        ACCEPTED = "accepted", _("已受理")
        ESCALATED = "escalated", _("升级调解")
        WITHDRAWN = "withdrawn", _("已撤回")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="handlings")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="handlings")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.PENDING)

    class Meta:
        ordering = ["referral_id", "started_at", "id"]
        indexes = [models.Index(fields=["organisation", "referral"])]


class Suspension(models.Model):
    """A pause of the mediation clock (e.g. waiting for an appraisal), kept as a ledger."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="suspensions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("中止原因"), max_length=500)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["referral_id", "started_at"]

    @property
    def paused_days(self) -> int:
        """Whole calendar days the clock stood still (a pause within one day costs nothing)."""
        if self.ended_at is None:
            return 0
        tz = timezone.get_current_timezone()
        return (timezone.localtime(self.ended_at, tz).date() - timezone.localtime(self.started_at, tz).date()).days


class Extension(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("延长天数"))
    reason = models.CharField(_("延期原因"), max_length=500)
    parties_consented = models.BooleanField(_("双方当事人同意"))
    round = models.PositiveSmallIntegerField(default=1)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["referral_id", "at"]


class ExtensionConsent(models.Model):
    """One party's consent to one extension of the mediation period, recorded as the consent to
    mediation is (the day and the method, ``Party.ConsentMethod``). Every party of the referral must
    have consented before the extension is granted (``workflow.extend_referral``)."""

    extension = models.ForeignKey(Extension, on_delete=models.CASCADE, related_name="consents")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="extension_consents")
    consented_on = models.DateField(_("同意延期日期"))
    method = models.CharField(_("同意方式"), max_length=16, choices=Party.ConsentMethod.choices)

    class Meta:
        verbose_name = _("当事人同意延期")
        verbose_name_plural = _("当事人同意延期")
        ordering = ["extension_id", "party__position", "party_id"]
        constraints = [
            models.UniqueConstraint(fields=["extension", "party"], name="extension_consent_once_per_party"),
        ]


class PetitionExtension(models.Model):
    """The one extension of the petition's handling period (信访工作条例 Art. 34): at most 30 days,
    approved by the head of the office, with notice of the reason to the petitioner (延期告知书)."""

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="petition_extension")
    days = models.PositiveSmallIntegerField(_("延长天数"))
    reason = models.CharField(_("延期理由"), max_length=500)
    approved_by_name = models.CharField(_("批准人"), max_length=100)
    previous_due_on = models.DateField(_("原办理期限"))
    due_on = models.DateField(_("延长后办理期限"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("信访办理期限延长")
        verbose_name_plural = _("信访办理期限延长")


class DeadlineReminder(models.Model):
    """That a reminder for one deadline at one level was sent: the sweep's exactly-once key.

    A stage's deadline has its stage's kind; the petition's own clock the kind ``petition``.

    The key is the deadline itself (kind and day), so an extension that moves the day earns a
    fresh reminder, while running the sweep twice, or in two processes at once, sends one.
    """

    class Level(models.TextChoices):
        DUE_SOON = "due_soon", _("即将到期")
        OVERDUE = "overdue", _("已超期")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=DeadlineKind.choices)
    due_on = models.DateField()
    level = models.CharField(max_length=16, choices=Level.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind", "due_on", "level"], name="reminder_once_per_deadline"),
        ]


class NumberCounter(models.Model):
    """Last number issued per prefix and year; gaps (a rolled-back draft) are allowed."""

    key = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveIntegerField(default=0)


class SavedFilter(models.Model):
    """A referral-list query a person keeps under a name (我的筛选); ``referrals/saved_filters.py``."""

    MAX_PER_USER = 20

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("名称"), max_length=40)
    query = models.CharField(_("筛选条件"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("保存的筛选")
        verbose_name_plural = _("保存的筛选")
        ordering = ["user_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name


class ReferralUserObjectPermission(UserObjectPermissionBase):
    """Ad-hoc sharing of one referral with one person (e.g. a co-handling department)."""

    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


# The bureau's own lists and services (referrals/bureau.py) and the statistics' running totals
# (referrals/cells.py), named here with the rest.
from referrals.bureau import (  # noqa: E402, F401
    Appeal,
    Assignment,
    CaseGroup,
    CaseGroupMember,
    CaseGroupNote,
    Consultation,
    Lawyer,
    LeaderCase,
    ReferralLink,
)
from referrals.cells import CellKey, ClockCell, DurationCell, StatsCell  # noqa: E402, F401
