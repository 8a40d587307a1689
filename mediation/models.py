"""What mediators record once they accept a referral: sessions, agreements, terminations, follow-up
visits, supervision orders and the dossier's attachments (人民调解法; docs/domain.md#workflow)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from referrals.models import CellKey, LegalRoute, Party, Referral, TerminationReason
from townships.calendar import calendar_period_end
from townships.models import Mediator, Organisation


class MediationSession(models.Model):
    """人民调解记录: one sitting (or investigation) of the case."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="sessions")
    round = models.PositiveSmallIntegerField(default=1)
    held_on = models.DateField(_("调解日期"))
    location = models.CharField(_("地点"), max_length=200)
    mediators = models.ManyToManyField(Mediator, verbose_name=_("参加调解员"), blank=True, related_name="+")
    # Lawyers of the origin petition office's roster who took part (律师参与调解).
    lawyers = models.ManyToManyField(
        "referrals.Lawyer", verbose_name=_("参加律师"), blank=True, related_name="sessions"
    )
    participants = models.TextField(_("当事人及其他参加人员"), max_length=1000)
    record = models.TextField(_("调解情况记录"), max_length=10000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("调解记录")
        verbose_name_plural = _("调解记录")
        ordering = ["referral_id", "held_on", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.held_on}"


class Agreement(models.Model):
    """调解协议书 (人民调解法 Arts. 28–29): written or oral, with its terms and performance."""

    class Form(models.TextChoices):
        WRITTEN = "written", _("书面协议")
        ORAL = "oral", _("口头协议")

    class Performance(models.TextChoices):
        PENDING = "pending", _("待履行")
        PERFORMED = "performed", _("已履行")
        PARTLY = "partly", _("部分履行")
        NOT_PERFORMED = "not_performed", _("未履行")

    class ConfirmationResult(models.TextChoices):
        PENDING = "pending", _("审查中")
        CONFIRMED = "confirmed", _("裁定确认有效")
        REJECTED = "rejected", _("裁定驳回申请")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="agreements")
    # The referral's region, copied (it no longer changes once mediation began) so that an area's
    # statistics read its agreements from an index instead of every agreement there is.
    region_code = models.CharField(max_length=12, blank=True, editable=False)
    round = models.PositiveSmallIntegerField(default=1)
    # The agreement that ended the referral's current round; reopening the case clears it (the
    # statistics count current agreements without looking at the referral).
    current = models.BooleanField(default=True, editable=False)
    form = models.CharField(_("协议形式"), max_length=16, choices=Form.choices)
    terms = models.TextField(_("协议内容"), max_length=5000)
    amount = models.DecimalField(_("涉及金额(元)"), max_digits=14, decimal_places=2, null=True, blank=True)
    performance_method = models.CharField(_("履行方式"), max_length=500)
    performance_place = models.CharField(_("履行地点"), max_length=200, blank=True)
    performance_due = models.DateField(_("履行期限"))
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    effective_on = models.DateField(_("生效日期"))

    performance = models.CharField(
        _("履行情况"), max_length=16, choices=Performance.choices, default=Performance.PENDING
    )
    performance_recorded_on = models.DateField(_("履行情况登记日期"), null=True, blank=True)

    confirmation_applied_on = models.DateField(_("申请司法确认日期"), null=True, blank=True)
    confirmation_court = models.CharField(_("受理法院"), max_length=100, blank=True)
    confirmation_result = models.CharField(
        _("司法确认结果"), max_length=16, choices=ConfirmationResult.choices, blank=True
    )
    confirmation_ruling_on = models.DateField(_("裁定日期"), null=True, blank=True)

    # The committee's document number of a written agreement (文号, e.g. 环调〔2026〕12号): given once,
    # inside the step that records the agreement, from the committee's yearly counter
    # (``mediation.documents.assign_agreement_number``), and never changed — ``number`` keeps the text
    # as first printed even if the committee is renamed later. Empty for an oral agreement.
    committee = models.ForeignKey(
        Organisation, verbose_name=_("调解组织"), on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    number_year = models.PositiveSmallIntegerField(_("文号年度"), null=True, editable=False)
    number_seq = models.PositiveIntegerField(_("文号序号"), null=True, editable=False)
    number = models.CharField(_("协议书文号"), max_length=40, blank=True, editable=False)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")
        ordering = ["referral_id", "round"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "round"], name="agreement_once_per_round"),
            # The backstop of the counter: one number is never given to two agreements.
            models.UniqueConstraint(
                fields=["committee", "number_year", "number_seq"],
                name="agreement_number_unique",
                condition=models.Q(number_seq__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["effective_on"], name="agreement_effective"),
            models.Index(fields=["region_code"], name="agreement_region", condition=models.Q(current=True)),
        ]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.get_form_display()}"

    @property
    def confirmable(self) -> bool:
        """Judicial confirmation (人民调解法 Art. 33) is for written agreements: a court confirms a
        document the parties signed, and an oral agreement has none."""
        return self.form == self.Form.WRITTEN

    @property
    def confirmation_deadline(self) -> datetime.date | None:
        """Last day to apply for judicial confirmation: 30 days after the agreement takes effect
        (人民调解法 Art. 33), rolled past rest days like any period. None for an oral agreement."""
        if not self.confirmable:
            return None
        return calendar_period_end(self.effective_on, settings.FANGDIAO["CONFIRMATION_DAYS"]).date

    def confirmation_window_open(self, today: datetime.date) -> bool:
        deadline = self.confirmation_deadline
        return deadline is not None and self.confirmation_applied_on is None and today <= deadline


class Termination(models.Model):
    """Mediation ended without agreement (人民调解法 Art. 26), with the routes explained."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="terminations")
    round = models.PositiveSmallIntegerField(default=1)
    reason = models.CharField(_("终止原因"), max_length=32, choices=TerminationReason.choices)
    note = models.TextField(_("说明"), max_length=2000, blank=True)
    routes_explained = models.JSONField(_("已告知的其他救济途径"), default=list)
    no_session_note = models.TextField(_("未开展调解的原因"), max_length=1000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("终止调解")
        verbose_name_plural = _("终止调解")
        ordering = ["referral_id", "round"]
        constraints = [models.UniqueConstraint(fields=["referral", "round"], name="termination_once_per_round")]

    def route_labels(self) -> list[str]:
        return [str(LegalRoute(r).label) for r in self.routes_explained if r in LegalRoute.values]

    @property
    def reason_in_words(self) -> str:
        """The reason as a notice states it: for "other", the mediator's own explanation."""
        if self.reason == TerminationReason.OTHER and self.note.strip():
            return self.note.strip()
        return str(self.get_reason_display())

    @property
    def note_beyond_reason(self) -> str:
        """The note, unless it already stands as the reason (said once, not twice)."""
        return "" if self.reason == TerminationReason.OTHER else self.note


class FollowUp(models.Model):
    """回访: how the parties feel afterwards and whether the agreement was performed."""

    class Method(models.TextChoices):
        PHONE = "phone", _("电话回访")
        VISIT = "visit", _("上门回访")
        SMS = "sms", _("短信回访")
        OTHER = "other", _("其他")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")

    class Source(models.TextChoices):
        STAFF = "staff", _("工作人员回访")
        PARTY = "party", _("当事人在线评价")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="followups")
    region_code = models.CharField(max_length=12, blank=True, editable=False)  # see Agreement.region_code
    visited_on = models.DateField(_("回访日期"))
    method = models.CharField(_("回访方式"), max_length=16, choices=Method.choices)
    satisfaction = models.CharField(_("满意度"), max_length=24, choices=Satisfaction.choices)
    performance = models.CharField(_("协议履行情况"), max_length=16, choices=Agreement.Performance.choices, blank=True)
    note = models.TextField(_("回访情况"), max_length=2000, blank=True)
    # A party's own rating through their link (``Source.PARTY``) has the party and no staff member.
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.STAFF)
    party = models.ForeignKey(Party, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["referral_id", "visited_on", "id"]
        indexes = [
            models.Index(fields=["satisfaction", "visited_on"]),
            models.Index(fields=["region_code"], name="followup_region"),
        ]


class SupervisionOrder(models.Model):
    """督办: a justice bureau's order to the current handler, with a date to respond by."""

    class Kind(models.TextChoices):
        WRITTEN_NOTICE = "written_notice", _("书面督办")
        INTERVIEW = "interview", _("约谈督办")
        ON_SITE = "on_site", _("现场督办")
        JOINT = "joint", _("联合督办")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(_("督办方式"), max_length=16, choices=Kind.choices, default=Kind.WRITTEN_NOTICE)
    note = models.TextField(_("督办事项"), max_length=2000)
    respond_by = models.DateField(_("回复期限"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    addressed_to = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", null=True)
    response = models.TextField(_("办理情况回复"), max_length=2000, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["referral_id", "issued_at"]
        indexes = [
            models.Index(fields=["respond_by"], name="supervision_open", condition=models.Q(responded_at__isnull=True))
        ]

    @property
    def answered(self) -> bool:
        return self.responded_at is not None

    def overdue(self, today: datetime.date) -> bool:
        return not self.answered and today > self.respond_by


class DossierItem(models.TextChoices):
    """The standard people's-mediation dossier (卷宗) list (docs/domain.md#required-elements)."""

    CONSENT = "consent", _("当事人同意调解材料")
    REGISTER_FORM = "register_form", _("受理登记表")
    RIGHTS_NOTICE = "rights_notice", _("当事人权利义务告知书")
    IDENTITY_PROOF = "identity_proof", _("当事人身份证明")
    MEDIATION_RECORD = "mediation_record", _("调解笔录")
    AGREEMENT = "agreement", _("调解协议书")
    BACK_COVER = "back_cover", _("封底")
    POWER_OF_ATTORNEY = "power_of_attorney", _("授权委托书")
    INVESTIGATION_RECORD = "investigation_record", _("调查笔录")
    EVIDENCE = "evidence", _("证据材料")
    PERFORMANCE_PROOF = "performance_proof", _("履行凭证")
    FOLLOWUP_RECORD = "followup_record", _("回访记录")
    JUDICIAL_CONFIRMATION = "judicial_confirmation", _("司法确认材料")
    DOSSIER_NOTE = "dossier_note", _("卷内备考表")
    TERMINATION_NOTICE = "termination_notice", _("终止调解告知书")
    OTHER = "other", _("其他材料")


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploaded name: it could carry a path or a misleading extension.
    return f"attachments/{instance.referral_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("材料类别"), max_length=32, choices=DossierItem.choices)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("材料")
        verbose_name_plural = _("材料")
        ordering = ["referral_id", "uploaded_at"]


class CorrectionRequest(models.Model):
    """退回补正: the petition office's reviewer asks the committee for missing dossier papers.

    The referral keeps its state (concluded, awaiting review); the request has its own short clock
    (``CLOCK_CORRECTION_WORKING_DAYS``) and is answered item by item by the uploads of the papers
    it names (``mediation/workflow.py`` ``add_attachment``).
    """

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="correction_requests")
    round = models.PositiveSmallIntegerField(default=1)
    items = models.JSONField(_("待补正材料"), default=list)  # DossierItem codes
    received = models.JSONField(_("已补正材料"), default=list)  # those of ``items`` uploaded since
    note = models.TextField(_("补正说明"), max_length=2000, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    due_on = models.DateField(_("补正期限"))
    due_provisional = models.BooleanField(default=False)
    answered_at = models.DateTimeField(_("补正完成时间"), null=True, blank=True)
    # The sweep's exactly-once claim of the overdue reminder (a conditional UPDATE sets it).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退回补正")
        verbose_name_plural = _("退回补正")
        ordering = ["referral_id", "requested_at"]
        indexes = [
            models.Index(fields=["due_on"], name="correction_open", condition=models.Q(answered_at__isnull=True)),
        ]

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def outstanding(self) -> list[str]:
        return [i for i in self.items if i not in self.received]

    def labels(self, items: list[str] | None = None) -> list[str]:
        return [str(DossierItem(i).label) for i in (self.items if items is None else items) if i in DossierItem.values]

    def overdue(self, today: datetime.date) -> bool:
        return not self.answered and today > self.due_on


class DocumentCounter(models.Model):
    """The last number a committee gave to a kind of document in a year (文号的年度流水号).

    Incremented by a single UPDATE inside the transaction of the step that numbers a document: the
    row stays locked until that transaction ends, so two mediators of one committee concluding at once get
    consecutive numbers, never the same one (``mediation.documents.next_number``).
    """

    class Kind(models.TextChoices):
        AGREEMENT = "agreement", _("调解协议书")

    committee = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("文号计数")
        verbose_name_plural = _("文号计数")
        constraints = [
            models.UniqueConstraint(fields=["committee", "kind", "year"], name="document_counter_key"),
        ]

    def __str__(self) -> str:
        return f"{self.committee_id} {self.kind} {self.year}: {self.last}"


class ConfirmationReminder(models.Model):
    """The judicial-confirmation window reminder was sent for this agreement (exactly once)."""

    agreement = models.OneToOneField(Agreement, on_delete=models.CASCADE, related_name="confirmation_reminder")
    sent_at = models.DateTimeField(auto_now_add=True)


class SupervisionReminder(models.Model):
    """The supervisor was told that this order's response is overdue (exactly once)."""

    order = models.OneToOneField(SupervisionOrder, on_delete=models.CASCADE, related_name="overdue_reminder")
    sent_at = models.DateTimeField(auto_now_add=True)


class MediationCell(CellKey):
    """Running totals of mediation's clock-free figures (agreements, latest follow-ups) per cell.

    Keyed like ``referrals.StatsCell`` (``CellKey``: the cell of the referral the record belongs
    to) and kept the same way: each step that changes a referral's current agreement or its
    follow-ups adds the difference it makes (``referrals/rollup.py``, registered by
    ``mediation/stats.py``).
    """

    agreements = models.IntegerField(default=0)
    agreements_written = models.IntegerField(default=0)
    agreements_oral = models.IntegerField(default=0)
    agreements_performed = models.IntegerField(default=0)
    judicially_confirmed = models.IntegerField(default=0)
    amount_involved = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    followups_visited = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    dissatisfied = models.IntegerField(default=0)
    rated_by_party = models.IntegerField(default=0)
    party_satisfied = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=CellKey.KEY, name="mediation_cell_key")]
