"""Lawyers in petition work: each petition office's roster of lawyers and legal advisers (驻点律师,
法律顾问), the consultations they give at intake, and their figures as the report counts them —
«驻点律师共为101批284人次提供法律咨询服务»: a consultation is one 批 (a visit), its persons are 人次.

The one place that writes the roster and the consultations and counts them, for the page, the API and
the home pages:

- **Who keeps them**: officers and reviewers of the petition office (``keeps_office``). A lawyer is
  usually not a user. Taking a lawyer off the roster keeps the entry (``active``), so past
  consultations and sessions keep their name; they can be put back.
- **Who sees them**: the office's own officers and reviewers, and the supervisors of a region that
  holds the office (the justice bureau supervises legal services); anyone else 404.
- **A consultation**: an active lawyer of the office, the day (not in the future), the number of
  persons (1–99), the topic, and optionally a referral the office registered — then it is also on
  that referral's timeline (``record_consultation``).
- **The figures** over a period of consultation days: 批次 (consultations) and 人次 (persons), per
  lawyer and in total.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import permissions
from referrals.errors import Forbidden, InvalidInput
from referrals.models import Consultation, Lawyer, Referral
from referrals.registry import RULE, Action, Extension
from referrals.steps import step
from townships import regions
from townships.models import Organisation
from townships.validators import FORMULA_START, to_halfwidth, validate_mobile, validate_name, validate_plausible_date

PERSONS_MAX = 99
TOPIC_MAX = Consultation._meta.get_field("topic").max_length
FIRM_MAX = Lawyer._meta.get_field("firm").max_length
# 律师执业证号: 17 ASCII digits (after full-width ones are made half-width).
LICENCE = re.compile(r"[0-9]{17}")


# --- The rule --------------------------------------------------------------------------------


def offices_kept_by(user) -> set[int]:
    """The petition offices whose roster and consultations the user keeps."""
    if not user.is_authenticated or not user.is_active:
        return set()
    g = permissions.grants_of(user)
    return set(g.orgs("refer_from")) | set(g.orgs("review_for"))


def keeps_office(user, office_id: int) -> bool:
    return office_id in offices_kept_by(user)


def _visible_offices(user) -> Q:
    """Which offices' lawyers and consultations the user may see, as a condition on ``office``."""
    if user.is_superuser:
        return Q()
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    areas = sorted(permissions.grants_of(user).region_codes("supervise_region"))
    return Q(office_id__in=offices_kept_by(user)) | regions.within(areas, field="office__region__code")


def lawyers_visible_to(user) -> QuerySet[Lawyer]:
    return Lawyer.objects.filter(_visible_offices(user)).select_related("office")


def consultations_visible_to(user) -> QuerySet[Consultation]:
    return Consultation.objects.filter(_visible_offices(user)).select_related("office", "lawyer", "referral")


def lawyer_for(user, pk: int) -> Lawyer:
    """A lawyer the user may see (404 otherwise)."""
    try:
        return lawyers_visible_to(user).get(pk=pk)
    except (Lawyer.DoesNotExist, ValueError, TypeError):
        raise Http404("lawyer not visible") from None


def require_keeper(user, office_id: int) -> None:
    if not keeps_office(user, office_id):
        raise Forbidden(_("只有该信访部门的信访干部和审核人员可以维护律师名册和咨询记录。"))


def offices_of(ids) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def office_for_page(user) -> None:
    """403 at once for someone who keeps no office's roster (before their form is judged)."""
    if not offices_kept_by(user):
        raise Forbidden(_("只有信访部门的信访干部和审核人员可以维护律师名册和咨询记录。"))


def office_for(user, requested: object = None) -> Organisation:
    """The office a new entry is for: the one asked for, or the user's only one (400 if several)."""
    kept = offices_kept_by(user)
    if requested not in (None, ""):
        try:
            pk = int(requested)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise InvalidInput({"office": [_("应为数字。")]}) from None
        if pk not in kept:
            raise Forbidden(_("您不是该信访部门的信访干部或审核人员。"))
        return Organisation.objects.get(pk=pk)
    if not kept:
        raise Forbidden(_("只有信访部门的信访干部和审核人员可以维护律师名册和咨询记录。"))
    if len(kept) > 1:
        raise InvalidInput({"office": [_("您属于多个信访部门，请选择信访部门。")]})
    return Organisation.objects.get(pk=next(iter(kept)))


# --- The roster ------------------------------------------------------------------------------


def check_lawyer(*, name: str, kind: str, firm: str, licence_no: str = "", mobile: str = "") -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {"kind": kind}
    try:
        clean["name"] = validate_name(name, max_length=50)
    except ValidationError as exc:
        errors["name"] = list(exc.messages)
    if kind not in Lawyer.Kind.values:
        errors["kind"] = [_("请选择类别：律师或法律顾问。")]
    try:
        clean["firm"] = validate_name(firm, max_length=FIRM_MAX)
    except ValidationError:
        errors["firm"] = [_("请填写执业机构（律师事务所），不超过%d个字，不能以 =、+、-、@ 开头。") % FIRM_MAX]
    licence = "".join(to_halfwidth(licence_no or "").split())
    if licence and not LICENCE.fullmatch(licence):
        errors["licence_no"] = [_("执业证号应为17位数字。")]
    clean["licence_no"] = licence
    clean["mobile"] = ""
    if (mobile or "").strip():
        try:
            clean["mobile"] = validate_mobile(mobile)
        except ValidationError as exc:
            errors["mobile"] = list(exc.messages)
    if errors:
        raise InvalidInput(errors)
    return clean


def add_lawyer(*, by, office: Organisation, **values: str) -> Lawyer:
    """Put a lawyer on the office's roster. 400 naming each mistake; the same name and firm twice: 400."""
    require_keeper(by, office.pk)
    clean = check_lawyer(**values)
    with transaction.atomic():
        if Lawyer.objects.filter(office=office, name=clean["name"], firm=clean["firm"], active=True).exists():
            raise InvalidInput({"name": [_("%(name)s（%(firm)s）已在本单位律师名册中。") % clean]})
        return Lawyer.objects.create(office=office, added_by=by, **clean)


def set_active(lawyer: Lawyer, *, by, active: bool) -> Lawyer:
    """Take a lawyer off the roster, or put them back; the entry stays either way."""
    require_keeper(by, lawyer.office_id)
    with transaction.atomic():
        locked = Lawyer.objects.select_for_update().get(pk=lawyer.pk)
        if active and not locked.active:
            twin = Lawyer.objects.filter(office_id=locked.office_id, name=locked.name, firm=locked.firm, active=True)
            if twin.exists():
                raise InvalidInput({"active": [_("名册中已有同名同机构的在册律师。")]})
        locked.active = active
        locked.save(update_fields=["active"])
    return locked


# --- Consultations ---------------------------------------------------------------------------


def record_consultation(
    *,
    by,
    lawyer: Lawyer,
    held_on: datetime.date | None,
    persons: int | None,
    topic: str,
    referral: Referral | None = None,
) -> Consultation:
    """Record one consultation (一批) at the lawyer's office; with a referral, on its timeline too.

    Who: the office's officers and reviewers. 400 naming each mistake, nothing written."""
    require_keeper(by, lawyer.office_id)
    errors: dict[str, list[str]] = {}
    if not lawyer.active:
        errors["lawyer"] = [_("该律师已不在册，不能登记新的咨询。")]
    try:
        topic = check_consultation(held_on=held_on, persons=persons, topic=topic)
    except InvalidInput as exc:
        errors |= exc.errors
    if referral is not None and referral.origin_id != lawyer.office_id:
        errors["referral"] = [_("只能关联本信访部门登记的案件。")]
    if errors:
        raise InvalidInput(errors)
    values = {"office_id": lawyer.office_id, "lawyer": lawyer, "held_on": held_on, "persons": persons, "topic": topic}
    if referral is None:
        return Consultation.objects.create(recorded_by=by, **values)
    with step(referral, by=by, action="record_consultation") as s:
        consultation = Consultation.objects.create(referral=s.referral, recorded_by=by, recorded_at=s.now, **values)
        s.note = _("%(lawyer)s（%(firm)s）为%(persons)d人提供法律咨询：%(topic)s") % {
            "lawyer": lawyer.name,
            "firm": lawyer.firm,
            "persons": persons,
            "topic": topic,
        }
        s.data = {"consultation": consultation.pk, "lawyer": lawyer.pk, "persons": persons, "held_on": str(held_on)}
    return consultation


def check_consultation(*, held_on: datetime.date | None, persons: int | None, topic: str) -> str:
    """The consultation's own values (the page form asks this too, so every mistake is said at once);
    the topic as stored. ``InvalidInput`` naming each mistake."""
    errors: dict[str, list[str]] = {}
    if held_on is None:
        errors["held_on"] = [_("请填写咨询日期。")]
    else:
        try:
            validate_plausible_date(held_on)
        except ValidationError as exc:
            errors["held_on"] = list(exc.messages)
    if persons is None or not 1 <= persons <= PERSONS_MAX:
        errors["persons"] = [_("人数应为 1 至 %d 之间的整数。") % PERSONS_MAX]
    topic = " ".join((topic or "").split())
    if not topic:
        errors["topic"] = [_("请填写咨询事项。")]
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = [_("咨询事项不能超过%d个字。") % TOPIC_MAX]
    elif topic.startswith(FORMULA_START):
        errors["topic"] = [_("咨询事项不能以 =、+、-、@ 开头。")]
    if errors:
        raise InvalidInput(errors)
    return topic


def referral_by_number(user, number: str) -> Referral | None:
    """A referral the user may see, by its number (None for an empty one; 400 for one not found)."""
    key = permissions.typed_number(number)
    if not key:
        return None
    found = permissions.visible_by_number(user, key)
    if found is None:
        raise InvalidInput({"referral": [_("未找到您有权查看的案件：%s") % key]})
    return found


# --- The figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    date_from: datetime.date
    date_to: datetime.date


def parse_period(params: Mapping[str, str], *, today: datetime.date | None = None) -> Period:
    """``from`` and ``to`` (consultation days, inclusive); this year so far when left out."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    days: dict[str, datetime.date] = {"from": datetime.date(today.year, 1, 1), "to": today}
    for key in ("from", "to"):
        if raw := (params.get(key) or "").strip():
            try:
                days[key] = datetime.date.fromisoformat(raw)
            except ValueError:
                errors[key] = [_("日期格式应为 YYYY-MM-DD。")]
    if not errors and days["from"] > days["to"]:
        errors["to"] = [_("结束日期不能早于开始日期。")]
    if errors:
        raise InvalidInput(errors)
    return Period(days["from"], days["to"])


@dataclass
class Figures:
    period: Period
    lawyers: list[dict[str, Any]]
    batches: int
    persons: int

    @property
    def summary(self) -> str:
        return _("%(start)s至%(end)s，驻点律师共为%(batches)d批%(persons)d人次提供法律咨询服务。") % {
            "start": self.period.date_from.isoformat(),
            "end": self.period.date_to.isoformat(),
            "batches": self.batches,
            "persons": self.persons,
        }


def figures(user, period: Period) -> Figures:
    """批次 and 人次 per lawyer and in total, over the consultations the user may see in the period."""
    rows = (
        consultations_visible_to(user)
        .filter(held_on__gte=period.date_from, held_on__lte=period.date_to)
        .values("lawyer_id", "lawyer__name", "lawyer__firm", "office__name")
        .annotate(batches=Count("id"), persons=Sum("persons"))
        .order_by("-persons", "lawyer__name", "lawyer_id")
    )
    lawyers = [
        {
            "id": r["lawyer_id"],
            "name": r["lawyer__name"],
            "firm": r["lawyer__firm"],
            "office": r["office__name"],
            "batches": r["batches"],
            "persons": r["persons"],
        }
        for r in rows
    ]
    return Figures(
        period=period,
        lawyers=lawyers,
        batches=sum(r["batches"] for r in lawyers),
        persons=sum(r["persons"] for r in lawyers),
    )


def lawyer_json(lawyer: Lawyer, *, full: bool = True) -> dict[str, Any]:
    return {
        "id": lawyer.pk,
        "office": {"id": lawyer.office_id, "name": lawyer.office.name},
        "name": lawyer.name,
        "kind": lawyer.kind,
        "kind_label": str(Lawyer.Kind(lawyer.kind).label),
        "firm": lawyer.firm,
        "licence_no": lawyer.licence_no,
        "mobile": lawyer.mobile if full else (lawyer.mobile[:3] + "****" + lawyer.mobile[7:] if lawyer.mobile else ""),
        "active": lawyer.active,
    }


def shown_referrals(user, consultations) -> set[int]:
    """Of the referrals these consultations name, those the user may open: a consultation of an office
    in a supervisor's region may be for the office's own draft, which the supervisor may not see."""
    ids = {c.referral_id for c in consultations if c.referral_id}
    return set(permissions.referrals_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()


def consultation_json(c: Consultation, shown: set[int]) -> dict[str, Any]:
    return {
        "id": c.pk,
        "office": {"id": c.office_id, "name": c.office.name},
        "lawyer": {"id": c.lawyer_id, "name": c.lawyer.name, "firm": c.lawyer.firm},
        "held_on": c.held_on.isoformat(),
        "persons": c.persons,
        "topic": c.topic,
        "referral": {"id": c.referral_id, "number": c.referral.number}
        if c.referral_id and c.referral_id in shown
        else None,
    }


# --- The registry ------------------------------------------------------------------------------


def extension() -> Extension:
    """The consultation as a rule of the referral it is recorded for (its timeline event)."""
    return Extension(
        name="lawyers",
        actions=(
            Action(
                "record_consultation",
                gettext_lazy("法律咨询"),
                who=lambda a, r: a.origin_officer or a.origin_reviewer,
                when=lambda r: True,
                kind=RULE,
                run=None,
            ),
        ),
    )
