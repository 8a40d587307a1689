"""The referral, its parties, its history and its clocks.

The state lives in an ``FSMField``; the transitions below are bare verbs that only set the fields
that follow from the change. Everything else a step needs — the lock, the permission, the required
elements, the timeline event, the deadline and the notifications — is in ``referrals/workflow.py``,
the only code that calls them.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

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
    """Suitable grounds for referral (DOMAIN.md §3); one must be chosen."""

    CIVIL_BETWEEN_CITIZENS = "civil_between_citizens", _("公民之间涉及人身、财产权益和其他权益的纠纷")
    CIVIL_CITIZEN_ORGANISATION = "civil_citizen_organisation", _("公民与法人或其他组织之间的民事纠纷")
    CIVIL_WITH_ADMINISTRATIVE_ORGAN = (
        "civil_with_administrative_organ",
        _("与行政机关之间涉及民事权利义务的纠纷"),
    )
    OTHER_LAWFUL = "other_lawful", _("其他依法可以调解的信访事项")


class Exclusion(models.TextChoices):
    """Matters that may not be referred (DOMAIN.md §3); each must be confirmed absent."""

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


class DeadlineStatus(models.TextChoices):
    ON_TIME = "on_time", _("正常")
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超期")


class ReferralQuerySet(models.QuerySet["Referral"]):
    def open(self) -> ReferralQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now: datetime.datetime | None = None) -> ReferralQuerySet:
        return self.filter(due_at__lte=now or timezone.now())

    def due_soon(self, now: datetime.datetime | None = None) -> ReferralQuerySet:
        now = now or timezone.now()
        return self.filter(due_soon_at__lte=now, due_at__gt=now)


class Referral(ConcurrentTransitionMixin, models.Model):
    """A petition-born dispute carried from a petition office to mediation and back."""

    number = models.CharField(_("编号"), max_length=32, unique=True)
    petition_no = models.CharField(_("信访件编号"), max_length=64, blank=True)
    received_on = models.DateField(_("信访受理日期"))
    category = models.CharField(_("纠纷类别"), max_length=32, choices=Category.choices)
    summary = models.TextField(_("事实摘要"), max_length=2000)
    claims = models.TextField(_("诉求"), max_length=2000)
    # What the list's search box looks in (summary and party names), as one column so that a
    # trigram index on PostgreSQL can serve it; written with the draft, never edited by hand.
    search_text = models.TextField(blank=True, editable=False)

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

    scope_ground = models.CharField(_("受理依据"), max_length=40, choices=ScopeGround.choices, blank=True)
    exclusions_absent = models.JSONField(_("已排除的不宜调解情形"), default=list, blank=True)

    lead_mediator = models.ForeignKey(
        Mediator, verbose_name=_("主调解员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mediators = models.ManyToManyField(Mediator, verbose_name=_("调解员"), blank=True, related_name="referrals")
    rights_explained = models.BooleanField(_("已告知权利义务"), default=False)

    submitted_at = models.DateTimeField(_("移交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("调解结束时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # When the current stage began: the start of its clock (acceptance restarts on each routing).
    stage_started_at = models.DateTimeField(null=True, blank=True)
    # Start of the current mediation round (acceptance, or the last reopening).
    mediation_started_at = models.DateTimeField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("调解轮次"), default=0)

    returns_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    ping_pong = models.BooleanField(_("反复退回"), default=False)
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("重复件"), null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats"
    )

    # Facts fixed when a stage ends, kept for the statistics (no history lookups at count time):
    # how the current round of mediation ended, and whether acceptance and conclusion were on time.
    outcome = models.CharField(_("调解结果"), max_length=16, choices=Outcome.choices, blank=True)
    accepted_on_time = models.BooleanField(_("按期受理"), null=True, blank=True)
    concluded_on_time = models.BooleanField(_("按期调结"), null=True, blank=True)

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
    petition_due_on = models.DateField(_("信访办理期限"), null=True, blank=True)
    petition_provisional = models.BooleanField(default=False)

    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("访调对接案件")
        verbose_name_plural = _("访调对接案件")
        ordering = ["-id"]
        indexes = [
            # With the state, a committee's referrals past draft come from the index alone.
            models.Index(fields=["target", "-id"], name="referral_target_recent", include=["state"]),
            models.Index(fields=["origin", "-id"], name="referral_origin_recent"),
            models.Index(fields=["region_code", "-id"], name="referral_region_recent"),
            models.Index(fields=["state", "-id"], name="referral_state_recent"),
            models.Index(fields=["due_at"], name="referral_open_due", condition=Q(due_at__isnull=False)),
            models.Index(fields=["due_soon_at"], name="referral_open_due_soon", condition=Q(due_soon_at__isnull=False)),
            models.Index(fields=["petition_no"], name="referral_petition_no"),
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
                    "concluded_on_time",
                    "due_at",
                    "due_soon_at",
                ],
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
        self.returns_count += 1
        # Returned twice: the supervising bureau is told and may route it itself.
        self.ping_pong = self.returns_count >= 2
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
        self.review_note = note
        self.closed_at = at
        self._enter_stage(at)

    @transition(field=state, source=[State.SUCCEEDED, State.FAILED, State.CLOSED], target=State.MEDIATING)
    def reopen(self, *, at: datetime.datetime) -> None:
        self.closed_at = None
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

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("当事人地位"), max_length=16, choices=Role.choices)
    kind = models.CharField(_("主体类型"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("姓名或名称"), max_length=100)
    id_number = models.CharField(_("身份证号或统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("住址"), max_length=200, blank=True)
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


class AppendOnlyQuerySet(models.QuerySet):
    """No bulk update or delete: history rows are written once and kept."""

    def update(self, **kwargs):
        raise RuntimeError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise RuntimeError(f"{self.model.__name__} rows are append-only.")


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
        from referrals.timeline import action_label

        return action_label(self.action)

    def get_to_state_label(self) -> str:
        return str(State(self.to_state).label) if self.to_state in State.values else ""


class AccessLog(models.Model):
    """Who saw personal data, downloaded a file or exported a ledger: when, from where (read audit).

    Append-only, and kept even if the referral is gone (ids and numbers are copied, not linked).
    ``region_code`` places the entry in a supervisor's region.
    """

    class Action(models.TextChoices):
        VIEW_PERSONAL_DATA = "view_personal_data", _("查看当事人完整信息")
        LIST_PERSONAL_DATA = "list_personal_data", _("列表中查看当事人完整信息")
        DOWNLOAD_ATTACHMENT = "download_attachment", _("下载材料")
        EXPORT_LEDGER = "export_ledger", _("导出台账")
        EXPORT_ROSTER = "export_roster", _("导出花名册")
        PRINT_DOCUMENT = "print_document", _("打印文书")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("用户名"), max_length=150)
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    referral_id = models.BigIntegerField(_("案件"), null=True, blank=True, db_index=True)
    referral_number = models.CharField(_("案件编号"), max_length=32, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, db_index=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("访问日志")
        verbose_name_plural = _("访问日志")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.referral_number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Access log entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Access log entries are append-only.")


class Handling(models.Model):
    """One organisation's turn with a referral: routed to it, and how its turn ended.

    Past handlers keep read access through these rows; returns and ping-pong are counted from them.
    """

    class Result(models.TextChoices):
        PENDING = "pending", _("办理中")
        DISPATCHED = "dispatched", _("已分派")
        DECLINED = "declined", _("已退回")
        ACCEPTED = "accepted", _("已受理")

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


class DeadlineReminder(models.Model):
    """That a reminder for one stage deadline at one level was sent: the sweep's exactly-once key.

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


class CellKey(models.Model):
    """The cell a referral counts in for running totals: township or "本级" region, category, month
    received, origin office, draft or not. ``StatsCell`` and other apps' totals (mediation's
    ``MediationCell``) share it, so ``referrals/rollup.py`` keeps them all the same way."""

    KEY = ("area", "category", "month", "origin_id", "draft")

    area = models.CharField(max_length=12)
    category = models.CharField(max_length=32)
    month = models.DateField()
    origin_id = models.BigIntegerField()
    draft = models.BooleanField()

    class Meta:
        abstract = True


class StatsCell(CellKey):
    """Running totals of the clock-free statistics of the referrals in one cell (``CellKey``).

    The workflow adds each referral's change to its cells in the transaction that makes it
    (``referrals/rollup.py``), with the same figure definitions the live count uses; an area's
    summary then sums a few thousand cells instead of reading a hundred thousand referrals.
    Deadline figures (overdue, due soon) change with the clock and are always counted live.
    """

    total = models.IntegerField(default=0)
    submitted = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    ping_pong = models.IntegerField(default=0)
    concluded = models.IntegerField(default=0)
    succeeded = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    accepted_on_time = models.IntegerField(default=0)
    concluded_on_time = models.IntegerField(default=0)
    state_draft = models.IntegerField(default=0)
    state_submitted = models.IntegerField(default=0)
    state_mediating = models.IntegerField(default=0)
    state_declined = models.IntegerField(default=0)
    state_succeeded = models.IntegerField(default=0)
    state_failed = models.IntegerField(default=0)
    state_closed = models.IntegerField(default=0)
    days_to_accept = models.FloatField(default=0)
    n_to_accept = models.IntegerField(default=0)
    days_to_conclude = models.FloatField(default=0)
    n_to_conclude = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=CellKey.KEY, name="stats_cell_key"),
        ]


class NumberCounter(models.Model):
    """Last number issued per prefix and year; gaps (a rolled-back draft) are allowed."""

    key = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveIntegerField(default=0)


class ReferralUserObjectPermission(UserObjectPermissionBase):
    """Ad-hoc sharing of one referral with one person (e.g. a co-handling department)."""

    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)
