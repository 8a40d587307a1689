"""The petition bureau's own work around its referrals, as the Jiangmen report describes it: the
leaders' lists (领导包案), the cases handed down by higher bureaus (交办件), and the lawyers of its
roster with their consultations. Kept apart from ``referrals/models.py`` (the referral and its
workflow records), which imports them so that ``referrals.models`` still names every model."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LeaderCase(models.Model):
    """领导包案: a referral on one year's list of cases a named leader takes personal charge of.

    Each year the city, the counties and the townships draw up such a list and report its progress
    (包案 n 宗，已办结 m 宗，未办结 k 宗). The leader is usually not a user: the origin petition office
    keeps the entries (``referrals/leader_cases.py``). Taking a case off the list is recorded
    (``removed_on``, ``removed_by``, ``reason``), never deleted; a referral has at most one entry
    that has not been taken off.
    """

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        COUNTY = "county", _("县级")
        TOWNSHIP = "township", _("镇级")

    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="leader_cases")
    year = models.PositiveSmallIntegerField(_("年度"))
    name = models.CharField(_("包案领导"), max_length=50)
    post = models.CharField(_("职务"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    assigned_on = models.DateField(_("包案日期"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    removed_on = models.DateField(_("撤出日期"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤出登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("撤出原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("领导包案")
        verbose_name_plural = _("领导包案")
        ordering = ["year", "level", "name", "assigned_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(removed_on__isnull=True), name="leader_case_one_active_per_referral"
            ),
        ]
        indexes = [models.Index(fields=["year", "level"], name="leader_case_year_level")]

    def __str__(self) -> str:
        return f"{self.year} {self.name} {self.referral_id}"

    @property
    def active(self) -> bool:
        return self.removed_on is None


def keep_paper(file: FieldFile, folder: str, upload: Any, read: tuple[bytes, str]) -> tuple[str, str]:
    """Store a paper's checked bytes (``lib.uploads.sniff``'s ``read``) in ``file``, in ``folder`` by
    their hash; the name it came with (cut to fit) and its type, for the fields beside it.

    Never stored under the uploaded name: it could carry a path or a misleading extension."""
    content, content_type = read
    digest = hashlib.sha256(content).hexdigest()
    file.save(f"{folder}/{digest[:2]}/{digest}", ContentFile(content), save=False)
    return (upload.name or "file")[-200:], content_type


def assignment_report_path(instance: Assignment, filename: str) -> str:
    return filename  # named by the content's hash (``keep_paper``)


class Assignment(models.Model):
    """交办件: the referral was handed down by a higher petition bureau in a numbered batch (国家信访局
    的「国专件」, 省信访局的「省专件」), and its handling must be reported back (上报办结) by a day.

    Recorded and reported by the origin office (``referrals/assignments.py``); at most one per
    referral; correctable until the report is made, then fixed.
    """

    class Level(models.TextChoices):
        NATIONAL = "national", _("国家信访局")
        PROVINCIAL = "provincial", _("省信访局")
        CITY = "city", _("市信访局")

    referral = models.OneToOneField("referrals.Referral", on_delete=models.CASCADE, related_name="assignment")
    level = models.CharField(_("交办单位"), max_length=16, choices=Level.choices)
    batch = models.CharField(_("交办批次"), max_length=50)
    assigned_on = models.DateField(_("交办日期"))
    report_due_on = models.DateField(_("上报期限"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    reported_on = models.DateField(_("上报日期"), null=True, blank=True)
    report = models.TextField(_("上报内容"), blank=True)
    report_file = models.FileField(_("上报材料"), upload_to=assignment_report_path, max_length=200, blank=True)
    report_file_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    report_file_type = models.CharField(max_length=100, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_at = models.DateTimeField(_("上报登记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交办件")
        verbose_name_plural = _("交办件")
        ordering = ["level", "batch", "assigned_on", "id"]
        indexes = [
            models.Index(fields=["level", "batch"], name="assignment_level_batch"),
            # The sweep's and the filter's "not reported yet, due by" look-up.
            models.Index(
                fields=["report_due_on"], condition=Q(reported_on__isnull=True), name="assignment_report_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.batch} {self.referral_id}"


class Lawyer(models.Model):
    """A lawyer (律师) or legal adviser (法律顾问) on a petition office's roster: the 驻点律师 who give
    legal consultations at intake and may take part in a mediation session. Usually not a user; the
    office keeps the roster (``referrals/lawyers.py``). Taken off the roster, never deleted: past
    consultations and sessions keep naming them."""

    class Kind(models.TextChoices):
        LAWYER = "lawyer", _("律师")
        ADVISER = "adviser", _("法律顾问")

    office = models.ForeignKey(
        "townships.Organisation", verbose_name=_("信访部门"), on_delete=models.PROTECT, related_name="lawyers"
    )
    name = models.CharField(_("姓名"), max_length=50)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices, default=Kind.LAWYER)
    firm = models.CharField(_("执业机构"), max_length=100)
    licence_no = models.CharField(_("执业证号"), max_length=17, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)
    active = models.BooleanField(_("在册"), default=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("律师")
        verbose_name_plural = _("律师")
        ordering = ["office_id", "-active", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "name", "firm"], condition=Q(active=True), name="lawyer_once_per_office"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.firm}）"


def appeal_document_path(instance: Appeal, filename: str) -> str:
    return filename  # named by the content's hash (``keep_paper``)


class Appeal(models.Model):
    """复查 or 复核: the petitioner contests the written reply to a closed referral before the office of
    the level above (信访工作条例 Arts. 35–36), which answers within 30 days (hearing time excluded).

    Kept by ``office``: the petition office above the one whose decision is contested. Where that
    office is not in this system (the city's own referrals go to the province), the contested office
    records the higher body's handling itself and names it in ``body``. At most one 复查 and one 复核
    per referral; the rules are in ``referrals/appeals.py``.
    """

    class Kind(models.TextChoices):
        REVIEW = "review", _("复查")
        RE_REVIEW = "re_review", _("复核")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("维持")
        CHANGED = "changed", _("变更")
        REVOKED = "revoked", _("撤销")
        WITHDRAWN = "withdrawn", _("申请人撤回")

    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="appeals")
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    office = models.ForeignKey(
        "townships.Organisation", verbose_name=_("办理机关"), on_delete=models.PROTECT, related_name="+"
    )
    body = models.CharField(_("上级办理机关"), max_length=100, blank=True)
    requested_on = models.DateField(_("收到申请日期"))
    grounds = models.TextField(_("申请理由"))
    lawyer = models.ForeignKey(
        Lawyer, verbose_name=_("参与律师"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals"
    )
    hearing_days = models.PositiveSmallIntegerField(_("听证天数"), default=0)
    due_on = models.DateField(_("答复期限"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    outcome = models.CharField(_("办理结果"), max_length=16, choices=Outcome.choices, blank=True)
    decided_on = models.DateField(_("意见日期"), null=True, blank=True)
    opinion = models.TextField(_("复查复核意见"), blank=True)
    delivered_on = models.DateField(_("意见送达日期"), null=True, blank=True)
    document = models.FileField(_("意见书"), upload_to=appeal_document_path, max_length=200, blank=True)
    document_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    document_type = models.CharField(max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("意见登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("意见登记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("复查复核")
        verbose_name_plural = _("复查复核")
        ordering = ["referral_id", "requested_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind"], name="appeal_once_per_kind"),
        ]
        indexes = [
            models.Index(fields=["office", "requested_on"], name="appeal_office_requested"),
            # The sweep's "not answered yet, due by" look-up.
            models.Index(fields=["due_on"], condition=Q(decided_on__isnull=True), name="appeal_open_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.referral_id}"

    @property
    def is_open(self) -> bool:
        """Not answered yet: the clock runs."""
        return self.decided_on is None

    @property
    def finished(self) -> bool:
        """Answered and the answer delivered (or withdrawn): nothing more to record on it."""
        return self.outcome == self.Outcome.WITHDRAWN or self.delivered_on is not None


class Consultation(models.Model):
    """法律咨询: one visit (批) of persons (人次) a roster lawyer advised at the petition office, about a
    topic, optionally for a referral — counted as the report does («驻点律师共为101批284人次提供法律咨询服务»)."""

    office = models.ForeignKey(
        "townships.Organisation", verbose_name=_("信访部门"), on_delete=models.PROTECT, related_name="+"
    )
    lawyer = models.ForeignKey(Lawyer, verbose_name=_("律师"), on_delete=models.PROTECT, related_name="consultations")
    held_on = models.DateField(_("咨询日期"))
    persons = models.PositiveSmallIntegerField(_("人数"))
    topic = models.CharField(_("咨询事项"), max_length=200)
    referral = models.ForeignKey(
        "referrals.Referral",
        verbose_name=_("关联案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consultations",
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("法律咨询")
        verbose_name_plural = _("法律咨询")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["office", "held_on"], name="consultation_office_day")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.lawyer_id} {self.persons}"


class ReferralLink(models.Model):
    """Two referrals about the same dispute (one petitioned twice, or by both sides) or related ones
    (the same housing estate, the same land requisition): each shows the other to whoever may see it.
    Stored once per pair, the lower id first; undone links are kept (``referrals/links.py``)."""

    class Kind(models.TextChoices):
        SAME_DISPUTE = "same_dispute", _("同一纠纷")
        RELATED = "related", _("相关纠纷")

    low = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="links_up")
    high = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="links_down")
    kind = models.CharField(_("关联类型"), max_length=16, choices=Kind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Undone links are kept: the timeline cannot say which referral was linked (a later viewer of one
    # end may not be allowed to know of the other), so this row is the record of it.
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("关联案件")
        verbose_name_plural = _("关联案件")
        constraints = [
            models.UniqueConstraint(
                fields=["low", "high"], condition=Q(removed_at__isnull=True), name="referral_link_once"
            ),
            models.CheckConstraint(condition=Q(low__lt=models.F("high")), name="referral_link_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.low_id}–{self.high_id} {self.kind}"


class CaseGroup(models.Model):
    """类案: many petitions about one underlying problem (one housing estate, one land requisition),
    handled together by a special working group (专项工作小组) that one organisation leads — a petition
    office or a justice bureau (``referrals/case_groups.py``). Its members are referrals, each still
    carried through its own workflow; the group adds the view of all of them, notes, and sessions
    held with all of them at once."""

    name = models.CharField(_("类案名称"), max_length=100)
    description = models.TextField(_("基本情况"), max_length=2000, blank=True)
    lead_organisation = models.ForeignKey(
        "townships.Organisation", verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="case_groups"
    )
    # The working group's named members (工作小组成员), often from several bodies and not all users.
    working_group = models.CharField(_("工作小组成员"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("类案")
        verbose_name_plural = _("类案")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class CaseGroupMember(models.Model):
    """A referral in a 类案 group. Taking it out is recorded (who, when, why), never deleted; a referral
    is in a group at most once at a time."""

    group = models.ForeignKey(CaseGroup, on_delete=models.CASCADE, related_name="memberships")
    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="case_group_entries")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("移出原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("类案成员")
        verbose_name_plural = _("类案成员")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "referral"], condition=Q(removed_at__isnull=True), name="case_group_member_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.referral_id}"


class CaseGroupNote(models.Model):
    """A working note of the group (工作记录): progress, meetings, decisions; append-only."""

    group = models.ForeignKey(CaseGroup, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("工作记录"), max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("类案工作记录")
        verbose_name_plural = _("类案工作记录")
        ordering = ["-created_at", "-id"]
