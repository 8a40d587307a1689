"""Regions, organisations, memberships with roles, mediator rosters and the working-day calendar."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from townships.categories import Category
from townships.validators import sex_from_id_number, validate_id_number, validate_mobile

TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "街", "镇", "乡")


def strip_township_suffix(name: str) -> str:
    """环市街道 / 环市街 / 环市 → 环市; 棠下镇 → 棠下 (docs/domain.md#jiangmen: names come with or without it)."""
    for suffix in TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class RegionQuerySet(models.QuerySet["Region"]):
    def within(self, code: str) -> RegionQuerySet:
        """The region with this code and every region below it (NBS codes nest by prefix)."""
        return self.filter(code__startswith=code)


class Region(models.Model):
    """An administrative division with its NBS statistical code.

    Codes nest by prefix (4407 江门市 ⊃ 440703 蓬江区 ⊃ 440703006 环市街道), which is what scope
    checks rely on: "in the region" is "code starts with the region's code".
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县(市、区)")
        TOWNSHIP = "township", _("镇(街)")
        VILLAGE = "village", _("村(社区)")

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    abbreviation = models.CharField(
        _("编号前缀"), max_length=8, blank=True, help_text=_("城市用于案件编号的字母前缀，如 JM。")
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        permissions = [
            ("supervise_region", _("督导本区划内的转办案件")),
            ("route_region", _("在本区划内重新分派被反复退回的案件")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        return strip_township_suffix(self.name) if self.level == self.Level.TOWNSHIP else self.name

    def ancestors_codes(self) -> list[str]:
        """Codes of this region and those above it, nearest first, without a query."""
        lengths = [len(self.code)] + [n for n in (9, 6, 4, 2) if n < len(self.code)]
        return [self.code[:n] for n in lengths]

    def contains(self, other: Region | str) -> bool:
        code = other if isinstance(other, str) else other.code
        return code.startswith(self.code)

    def full_name(self) -> str:
        """蓬江区环市街道 — what people write to tell the two 白沙 apart."""
        if self.level == self.Level.TOWNSHIP and self.parent_id:
            return f"{self.parent.name}{self.name}"
        return self.name


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def active(self) -> OrganisationQuerySet:
        return self.filter(active=True)

    def accepting_referrals(self) -> OrganisationQuerySet:
        return self.active().filter(kind__in=Organisation.RECEIVING_KINDS)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PETITION_OFFICE = "petition_office", _("信访局")
        MEDIATION_COMMITTEE = "mediation_committee", _("人民调解委员会")
        JUSTICE_BUREAU = "justice_bureau", _("司法局")
        JUDICIAL_OFFICE = "judicial_office", _("司法所")
        GOVERNANCE_CENTRE = "governance_centre", _("综治中心")

    class CommitteeType(models.TextChoices):
        TOWNSHIP = "township", _("镇(街)调委会")
        VILLAGE = "village", _("村(居)调委会")
        INDUSTRY = "industry", _("行业性专业性调委会")
        # A county's or city's joint committee (县级联合人民调解委员会, 矛盾纠纷调处中心): where a dispute a
        # township could not resolve is escalated (升级调解).
        JOINT = "joint", _("县(区)、市联合调委会")

    # Kinds that may be the target of a referral (docs/domain.md#workflow: a committee, a justice bureau or
    # a governance centre); bureaus and centres route onward, committees mediate.
    RECEIVING_KINDS = (Kind.MEDIATION_COMMITTEE, Kind.JUSTICE_BUREAU, Kind.GOVERNANCE_CENTRE)
    ROUTING_KINDS = (Kind.JUSTICE_BUREAU, Kind.GOVERNANCE_CENTRE)

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices)
    committee_type = models.CharField(_("调委会类别"), max_length=16, choices=CommitteeType.choices, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="organisations"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("上级组织"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField(_("启用"), default=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["region__code", "kind", "name"]
        permissions = [
            ("view_org_referrals", _("查看本组织移交或接收的案件")),
            ("refer_from", _("以本组织名义登记、移交案件")),
            ("review_for", _("审核办结本组织移交的案件")),
            ("handle_for", _("受理、调解移交给本组织的案件")),
            ("dispatch_for", _("分派移交给本组织的案件")),
        ]
        indexes = [models.Index(fields=["kind", "region"])]
        constraints = [
            # Names repeat across a province (两个白沙), so they are unique only within a region.
            models.UniqueConstraint(fields=["region", "name"], name="organisation_unique_name_in_region"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.MEDIATION_COMMITTEE and not self.committee_type:
            raise ValidationError({"committee_type": _("人民调解委员会须选择类别。")})
        if self.kind != self.Kind.MEDIATION_COMMITTEE and self.committee_type:
            raise ValidationError({"committee_type": _("只有人民调解委员会有类别。")})

    @property
    def accepts_referrals(self) -> bool:
        return self.active and self.kind in self.RECEIVING_KINDS

    @property
    def routes_referrals(self) -> bool:
        return self.kind in self.ROUTING_KINDS

    def group_for(self, role: str) -> Group:
        """The auth group of this organisation's members in one role (created on first use)."""
        from townships.roles import sync_role_group

        return sync_role_group(self, role)


class OrganisationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class OrganisationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class RegionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class RegionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class Role(models.TextChoices):
    OFFICER = "officer", _("信访干部")
    REVIEWER = "reviewer", _("审核人")
    MEDIATOR = "mediator", _("调解员")
    DISPATCHER = "dispatcher", _("分派员")
    SUPERVISOR = "supervisor", _("督导员")


class Membership(models.Model):
    """A person's role in an organisation. Saving or deleting one updates the person's groups."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("成员身份")
        verbose_name_plural = _("成员身份")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"

    def clean(self) -> None:
        from townships.roles import ROLES_BY_KIND

        allowed = ROLES_BY_KIND.get(self.organisation.kind, ()) if self.organisation_id else ()
        if self.organisation_id and self.role not in allowed:
            names = "、".join(str(Role(r).label) for r in allowed)
            raise ValidationError(
                {"role": _("%(org)s 的成员只能担任：%(roles)s。") % {"org": self.organisation.name, "roles": names}}
            )


class Mediator(models.Model):
    """An entry of a committee's mediator roster (花名册). The person need not have a login."""

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Position(models.TextChoices):
        CHAIR = "chair", _("主任")
        VICE_CHAIR = "vice_chair", _("副主任")
        MEMBER = "member", _("委员")
        MEDIATOR = "mediator", _("调解员")

    class Employment(models.TextChoices):
        FULL_TIME = "full_time", _("专职")
        PART_TIME = "part_time", _("兼职")

    committee = models.ForeignKey(
        Organisation,
        verbose_name=_("调委会"),
        on_delete=models.PROTECT,
        related_name="mediators",
        limit_choices_to={"kind": Organisation.Kind.MEDIATION_COMMITTEE},
    )
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    id_number = models.CharField(_("身份证号"), max_length=18)
    mobile = models.CharField(_("手机号码"), max_length=11)
    position = models.CharField(_("职务"), max_length=16, choices=Position.choices, default=Position.MEDIATOR)
    employment = models.CharField(_("专兼职"), max_length=16, choices=Employment.choices, default=Employment.PART_TIME)
    specialities = models.JSONField(_("擅长领域"), default=list, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    active = models.BooleanField(_("在册"), default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roster_entries",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The applied roster import that put this entry on the roster: what undoing that import removes.
    created_by_import = models.ForeignKey(
        "RosterImport",
        verbose_name=_("由哪次导入新增"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="created_entries",
    )

    class Meta:
        verbose_name = _("人民调解员")
        verbose_name_plural = _("人民调解员花名册")
        ordering = ["committee_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "id_number"], name="mediator_unique_id_in_committee"),
        ]
        indexes = [models.Index(fields=["committee", "active"]), models.Index(Lower("name"), name="mediator_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list] = {}
        try:
            self.id_number = validate_id_number(self.id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages
        else:
            if self.sex and sex_from_id_number(self.id_number) != self.sex:
                errors["sex"] = [_("性别与身份证号不一致。")]
        try:
            self.mobile = validate_mobile(self.mobile)
        except ValidationError as exc:
            errors["mobile"] = exc.messages
        unknown = [s for s in self.specialities or [] if s not in Category.values]
        if unknown:
            errors["specialities"] = [_("未知的擅长领域：%s") % "、".join(unknown)]
        if self.committee_id and self.committee.kind != Organisation.Kind.MEDIATION_COMMITTEE:
            errors["committee"] = [_("只能登记在人民调解委员会名下。")]
        if errors:
            raise ValidationError(errors)

    def speciality_labels(self) -> list[str]:
        return [str(Category(s).label) for s in self.specialities if s in Category.values]


class CalendarDay(models.Model):
    """One day of the official calendar: working day or rest day, and why.

    China moves rest days each year (调休), so neither "weekday = working day" nor a holiday list
    alone is enough. Years are loaded from ``chinesecalendar`` (confirmed); a year it does not cover
    yet is computed from the statutory holidays (unconfirmed) and taken over by the published
    calendar when a newer chinesecalendar brings it, or entered and confirmed by an administrator
    (``townships.calendar.load_year``, docs/clocks.md). A day missing here, or not confirmed, makes
    any deadline that counts it provisional.
    """

    class Kind(models.TextChoices):
        WORKDAY = "workday", _("工作日")
        WEEKEND = "weekend", _("周末")
        HOLIDAY = "holiday", _("法定节假日")
        MAKEUP_WORKDAY = "makeup_workday", _("调休上班")

    class Source(models.TextChoices):
        CHINESECALENDAR = "chinesecalendar", _("chinesecalendar 软件包")
        STATUTORY_RULE = "statutory_rule", _("法定节假日规则推算(暂定)")
        # Years loaded before the statutory rule; the next load replaces them.
        WEEKDAY_RULE = "weekday_rule", _("周一至周五规则(推定)")
        ADMIN = "admin", _("管理员录入")

    date = models.DateField(_("日期"), primary_key=True)
    is_workday = models.BooleanField(_("是否工作日"))
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("节日名称"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.ADMIN)
    confirmed = models.BooleanField(_("已确认"), default=False)

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind in (self.Kind.WORKDAY, self.Kind.MAKEUP_WORKDAY) and not self.is_workday:
            raise ValidationError({"is_workday": _("工作日或调休上班日必须标为工作日。")})
        if self.kind in (self.Kind.WEEKEND, self.Kind.HOLIDAY) and self.is_workday:
            raise ValidationError({"is_workday": _("周末或节假日不能标为工作日。")})


class RosterImport(models.Model):
    """One roster spreadsheet put through the importer: who, when, which file, and what came of it.

    A dry run (preview) and the apply that follows it are two rows; the apply points back to its
    preview. The uploaded file is kept only while it may still be needed (to apply a preview, or
    to build the error workbook) and then deleted: it holds ID numbers.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("正在处理")
        SUCCEEDED = "succeeded", _("已完成")
        INVALID = "invalid", _("有错误，未导入")
        REFUSED = "refused", _("文件被拒绝")
        FAILED = "failed", _("处理出错")

    FINISHED = (Status.SUCCEEDED, Status.INVALID, Status.REFUSED, Status.FAILED)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="roster_imports"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始处理时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    file = models.FileField(_("文件"), upload_to="roster-imports/%Y/%m/", blank=True, max_length=300)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(_("文件SHA-256"), max_length=64, blank=True, db_index=True)
    file_size = models.PositiveBigIntegerField(_("文件大小"), default=0)
    file_format = models.CharField(_("文件格式"), max_length=8, blank=True)
    dry_run = models.BooleanField(_("仅预览"), default=True)
    replace = models.BooleanField(_("替换花名册"), default=False)
    default_committee = models.ForeignKey(
        Organisation,
        verbose_name=_("默认调委会"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": Organisation.Kind.MEDIATION_COMMITTEE},
    )
    preview = models.ForeignKey(
        "self", verbose_name=_("预览批次"), null=True, blank=True, on_delete=models.SET_NULL, related_name="applies"
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    applied = models.BooleanField(_("已写入"), default=False)
    detail = models.CharField(_("说明"), max_length=500, blank=True)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("表头行"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    deactivated = models.PositiveIntegerField(_("停用"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    committees = models.JSONField(_("涉及调委会"), default=list, blank=True)
    # Per person: {"created": [...], "updated": [...], "deactivated": [...]}, each list cut at
    # ``Limits.max_listed_people`` (the counts above are always whole). See ``roster_import.people``.
    people = models.JSONField(_("逐人变化"), default=dict, blank=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("花名册导入批次")
        verbose_name_plural = _("花名册导入批次")
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "-id"], name="roster_import_by_user")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class RosterChange(models.Model):
    """What an applied import did to an entry that was on the roster before it, with the values it
    replaced: what undoing the import puts back. (Entries it created are ``Mediator.created_by_import``:
    the fast insert writes that column at no cost, and their earlier values are none.)"""

    class Action(models.TextChoices):
        UPDATED = "updated", _("更新")
        DEACTIVATED = "deactivated", _("标为不在册")

    roster_import = models.ForeignKey(
        RosterImport, verbose_name=_("导入批次"), on_delete=models.CASCADE, related_name="entry_changes"
    )
    mediator = models.ForeignKey(Mediator, verbose_name=_("人民调解员"), on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("变化"), max_length=16, choices=Action.choices)
    # The fields the import changed, as they were before it (``updated_at`` included, as ISO text).
    before = models.JSONField(_("导入前的值"), default=dict)

    class Meta:
        verbose_name = _("花名册导入变化")
        verbose_name_plural = _("花名册导入变化")
        indexes = [models.Index(fields=["mediator", "roster_import"], name="roster_change_by_mediator")]

    def __str__(self) -> str:
        return f"{self.roster_import_id}:{self.mediator_id} {self.action}"
