"""The only code that changes a referral's state: one function per user action.

Every step: opens a transaction, locks the referral's row, checks permission
(``referrals/permissions.py``) and the step's required elements (all missing ones at once), calls
the FSM transition, saves with ``update_fields``, writes a timeline event, recomputes the deadline,
and queues notifications for after commit. Two people pressing different buttons at once: the
second waits for the lock, finds the state changed, and gets ``NotAvailable`` (HTTP 409).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from notifications.models import Kind as NotificationKind
from notifications.service import broadcast_referral_changed, notify
from referrals import permissions, rollup
from referrals.deadlines import apply_deadline
from referrals.errors import InvalidInput, Missing, MissingElements, NotAvailable
from referrals.models import (
    OPEN_STATES,
    DeclineReason,
    Exclusion,
    Extension,
    Handling,
    Party,
    Referral,
    Suspension,
    TimelineEvent,
)
from referrals.numbering import next_number
from townships.models import Mediator, Organisation

# --- Required elements (要件, DOMAIN.md §5) ----------------------------------------------------

ElementCheck = Callable[[Referral], list[Missing]]
_EXTRA_CHECKS: dict[str, list[ElementCheck]] = {}


_AFTER_STEP: dict[str, list[Callable[[Referral], None]]] = {}


def register_after_step(action: str, hook: Callable[[Referral], None]) -> None:
    """Let a later app keep its own records in step, in the step's transaction (mediation marks a
    reopened case's agreement as no longer current)."""
    _AFTER_STEP.setdefault(action, []).append(hook)


def register_element_check(action: str, check: ElementCheck) -> None:
    """Let a later app add elements to a step (the mediation dossier's must-items block closing)."""
    _EXTRA_CHECKS.setdefault(action, []).append(check)


def missing_for_submit(referral: Referral) -> list[Missing]:
    missing: list[Missing] = []
    parties = list(referral.parties.all())
    if not any(p.role == Party.Role.PETITIONER for p in parties):
        missing.append(Missing("petitioner", _("至少一名申请人(信访人)")))
    if not any(p.role == Party.Role.RESPONDENT for p in parties):
        missing.append(Missing("respondent", _("至少一名被申请人")))
    for i, party in enumerate(parties, start=1):
        label = party.name or _("第%d名当事人") % i
        if not party.name:
            missing.append(Missing(f"party_name:{i}", _("第%d名当事人的姓名或名称") % i))
        if party.kind == Party.Kind.PERSON and not (party.id_number or party.phone):
            missing.append(Missing(f"party_identity:{i}", _("%s的身份证号或联系电话") % label))
        if not party.has_consent:
            missing.append(Missing(f"consent:{i}", _("%s同意调解的日期和方式") % label))
    if not referral.category:
        missing.append(Missing("category", _("纠纷类别")))
    if not referral.summary.strip():
        missing.append(Missing("summary", _("事实摘要")))
    if not referral.claims.strip():
        missing.append(Missing("claims", _("当事人诉求")))
    if not referral.scope_ground:
        missing.append(Missing("scope_ground", _("受理依据(属于可调解的纠纷类型)")))
    for exclusion in Exclusion:
        if exclusion.value not in referral.exclusions_absent:
            missing.append(Missing(f"exclusion:{exclusion.value}", _("确认不存在：%s") % exclusion.label))
    if referral.target_id is None:
        missing.append(Missing("target", _("接收单位")))
    elif not referral.target.accepts_referrals:
        missing.append(Missing("target", _("接收单位须为可接收移交的调委会、司法局或综治中心")))
    return missing


def missing_for_accept(referral: Referral, mediators: Sequence[Mediator], rights_explained: bool) -> list[Missing]:
    missing: list[Missing] = []
    if not mediators:
        missing.append(Missing("lead_mediator", _("主调解员(从本调委会在册调解员中选择)")))
    else:
        for mediator in mediators:
            if mediator.committee_id != referral.target_id or not mediator.active:
                missing.append(Missing("mediator_not_on_roster", _("%s不是本调委会在册调解员") % mediator.name))
    if not rights_explained:
        missing.append(Missing("rights_explained", _("已向当事人告知权利义务(人民调解当事人权利义务告知书)")))
    return missing


def missing_elements(referral: Referral, action: str) -> list[Missing]:
    """Elements the step still lacks that can be read from the referral itself (for checklists)."""
    missing = missing_for_submit(referral) if action == "submit" else []
    for check in _EXTRA_CHECKS.get(action, []):
        missing += check(referral)
    return missing


# --- The one way to change state -------------------------------------------------------------


@dataclass
class Step:
    """What a transition did, for the timeline and the notifications."""

    note: str = ""
    data: dict = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)


def _lock(referral: Referral | int) -> Referral:
    pk = referral if isinstance(referral, int) else referral.pk
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("origin", "target", "target__region", "region")
        .get(pk=pk)
    )


def _snapshot(referral: Referral) -> dict[str, object]:
    return {f.attname: getattr(referral, f.attname) for f in Referral._meta.concrete_fields if not f.primary_key}


def record_event(
    referral: Referral, *, by, action: str, from_state: str = "", note: str = "", data: dict | None = None
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        referral=referral,
        actor=by,
        action=action,
        from_state=from_state,
        to_state=referral.state,
        note=note,
        data=data or {},
    )


def referral_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def perform(
    referral: Referral | int,
    *,
    by,
    action: str,
    change: Callable[[Referral, datetime.datetime], Step],
    check: Callable[[Referral], list[Missing]] | None = None,
    after: Callable[[Referral, Step, datetime.datetime], None] | None = None,
) -> Referral:
    """Run one workflow step (see the module docstring). Used by this module and mediation/workflow.

    ``change`` calls the FSM transition and sets fields, returning a ``Step``; ``after`` writes
    dependent rows and notifications inside the same transaction.
    """
    try:
        with transaction.atomic():
            locked = _lock(referral)
            permissions.require(by, locked, action)
            missing = (check(locked) if check else []) + [m for c in _EXTRA_CHECKS.get(action, []) for m in c(locked)]
            if missing:
                raise MissingElements(missing)
            from_state = locked.state
            now = timezone.now()
            before = _snapshot(locked)
            with rollup.tracked(locked.pk):
                step = change(locked, now)
                apply_deadline(locked)
                # Save exactly what the transition and the deadline changed (update_fields), so a
                # concurrent edit of another column is never overwritten with a stale value.
                changed = {"updated_at", *step.fields, *(k for k, v in _snapshot(locked).items() if before[k] != v)}
                locked.save(update_fields=sorted(changed))
            record_event(locked, by=by, action=action, from_state=from_state, note=step.note, data=step.data)
            if after:
                after(locked, step, now)
            for hook in _AFTER_STEP.get(action, []):
                hook(locked)
            broadcast_referral_changed(permissions.organisations_watching(locked), locked.pk, locked.state)
    except (TransitionNotAllowed, ConcurrentTransition):
        raise NotAvailable() from None
    except Referral.DoesNotExist:
        raise NotAvailable() from None
    return locked


def perform_record(
    referral: Referral | int,
    *,
    by,
    action: str,
    write: Callable[[Referral, datetime.datetime], Step],
    event: str | None = None,
    check: Callable[[Referral], list[Missing]] | None = None,
) -> Referral:
    """Record something on a referral without changing its state (a session, a follow-up, an order).

    Same guarantees as ``perform``: the row lock (so nothing is added to a case being concluded at
    that moment), the permission, the elements, a timeline event and the live push.
    """
    try:
        with transaction.atomic():
            locked = _lock(referral)
            permissions.require(by, locked, action)
            missing = check(locked) if check else []
            if missing:
                raise MissingElements(missing)
            step = write(locked, timezone.now())
            if step.fields:
                locked.save(update_fields=sorted({*step.fields, "updated_at"}))
            record_event(locked, by=by, action=event or action, from_state=locked.state, note=step.note, data=step.data)
            broadcast_referral_changed(permissions.organisations_watching(locked), locked.pk, locked.state)
    except Referral.DoesNotExist:
        raise NotAvailable() from None
    return locked


def tell(referral: Referral, who: str, kind: str, title: str, body: str = "", *, by=None) -> None:
    """Notify an audience of the referral (see ``permissions.audience``), never the actor."""
    notify(
        permissions.audience(referral, who),
        kind=kind,
        title=title,
        body=body,
        url=referral_url(referral),
        referral_id=referral.pk,
        exclude=[by.pk] if by else [],
    )


def _excerpt(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Intake ----------------------------------------------------------------------------------


@dataclass
class PartyInput:
    role: str
    kind: str
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    consent_given_on: datetime.date | None = None
    consent_method: str = ""


@dataclass
class ReferralInput:
    """Validated intake data (forms and serializers check shapes, codes and lengths first)."""

    received_on: datetime.date
    category: str
    summary: str
    claims: str
    petition_no: str = ""
    target: Organisation | None = None
    scope_ground: str = ""
    exclusions_absent: list[str] = field(default_factory=list)
    parties: list[PartyInput] = field(default_factory=list)


def check_target(target: Organisation, *, origin: Organisation) -> None:
    """A referral goes to an active committee, bureau or centre of the origin's own city."""
    if not target.accepts_referrals:
        raise InvalidInput({"target": [_("%s不能接收移交案件。") % target.name]})
    if target.region.code[:4] != origin.region.code[:4]:
        raise InvalidInput({"target": [_("只能移交给本市的调解组织或司法行政机关。")]})


def _write_parties(referral: Referral, parties: Iterable[PartyInput]) -> None:
    Party.objects.bulk_create([Party(referral=referral, position=i, **vars(p)) for i, p in enumerate(parties)])


def _write_input(referral: Referral, data: ReferralInput) -> None:
    referral.search_text = " ".join([data.summary, *(p.name for p in data.parties)])
    referral.received_on = data.received_on
    referral.category = data.category
    referral.summary = data.summary
    referral.claims = data.claims
    referral.petition_no = data.petition_no
    referral.scope_ground = data.scope_ground
    referral.exclusions_absent = sorted(set(data.exclusions_absent))
    if data.target is not None:
        check_target(data.target, origin=referral.origin)
        referral.set_target(data.target)
    else:
        referral.target = None
        referral.region = referral.origin.region
        referral.region_code = referral.origin.region.code


def create_referral(*, by, origin: Organisation, data: ReferralInput) -> Referral:
    """Register a draft referral for a petition office.

    Who: an officer of ``origin``. Side effects: a number is issued; a ``create`` timeline event.
    """
    if origin.pk not in permissions.grants_of(by).orgs("refer_from"):
        raise permissions.Forbidden(_("您不是该信访部门的信访干部，不能以其名义登记案件。"))
    with transaction.atomic():
        referral = Referral(origin=origin, created_by=by)
        _write_input(referral, data)
        referral.number = next_number(origin.region)
        apply_deadline(referral)
        referral.save()
        _write_parties(referral, data.parties)
        _mark_repeat(referral)
        rollup.record_new(referral.pk)
        record_event(referral, by=by, action="create", data={"number": referral.number})
    return referral


def update_draft(referral: Referral, *, by, data: ReferralInput) -> Referral:
    """Replace a draft's contents. Who: an officer of the origin office; only while a draft."""

    def change(r: Referral, now: datetime.datetime) -> Step:
        _write_input(r, data)
        r.parties.all().delete()
        _write_parties(r, data.parties)
        _mark_repeat(r)
        fields = [
            "search_text",
            "received_on",
            "category",
            "summary",
            "claims",
            "petition_no",
            "scope_ground",
            "exclusions_absent",
            "target",
            "region",
            "region_code",
        ]
        return Step(fields=fields)

    try:
        with transaction.atomic():
            locked = _lock(referral)
            permissions.require(by, locked, "edit")
            with rollup.tracked(locked.pk):
                step = change(locked, timezone.now())
                locked.save(update_fields=sorted({*step.fields, *apply_deadline(locked), "updated_at"}))
            record_event(locked, by=by, action="edit", from_state=locked.state)
    except Referral.DoesNotExist:
        raise NotAvailable() from None
    return locked


# --- Duplicate warning at intake -------------------------------------------------------------


def possible_duplicates(referral: Referral, *, limit: int = 10) -> list[Referral]:
    """Other open referrals with the same petitioner (ID number or phone) or the same pair of parties.

    A warning for the officer, not a block: the same neighbours may well have a second dispute.
    """
    parties = list(referral.parties.all()) if referral.pk else []
    petitioners = [p for p in parties if p.role == Party.Role.PETITIONER]
    respondents = [p for p in parties if p.role == Party.Role.RESPONDENT]
    match = Q(pk__in=[])
    ids = [p.id_number for p in petitioners if p.id_number]
    phones = [p.phone for p in petitioners if p.phone]
    if ids:
        match |= Q(parties__role=Party.Role.PETITIONER, parties__id_number__in=ids)
    if phones:
        match |= Q(parties__role=Party.Role.PETITIONER, parties__phone__in=phones)
    pair_candidates = set()
    if petitioners and respondents:
        names_p = [p.name for p in petitioners]
        names_r = [p.name for p in respondents]
        pair_candidates = set(
            Party.objects.filter(role=Party.Role.PETITIONER, name__in=names_p)
            .filter(referral__parties__role=Party.Role.RESPONDENT, referral__parties__name__in=names_r)
            .values_list("referral_id", flat=True)[:limit]
        )
        match |= Q(pk__in=pair_candidates)
    if match == Q(pk__in=[]):
        return []
    return list(
        Referral.objects.filter(match, state__in=OPEN_STATES)
        .exclude(pk=referral.pk)
        .distinct()
        .select_related("origin", "target")
        .order_by("-id")[:limit]
    )


def _mark_repeat(referral: Referral) -> None:
    found = possible_duplicates(referral, limit=1)
    referral.repeat_of = found[0] if found else None
    Referral.objects.filter(pk=referral.pk).update(repeat_of=referral.repeat_of)


# --- Steps -----------------------------------------------------------------------------------


def _open_handling(referral: Referral, organisation: Organisation, at: datetime.datetime) -> None:
    Handling.objects.create(referral=referral, organisation=organisation, started_at=at)


def _end_handling(referral: Referral, result: str, at: datetime.datetime) -> None:
    Handling.objects.filter(referral=referral, ended_at__isnull=True).update(ended_at=at, result=result)


def submit_referral(referral: Referral, *, by) -> Referral:
    """Refer a draft to its target (移交). From: draft. Who: an officer of the origin office.

    Needs every element of DOMAIN.md §5 "Refer". Tells the target's members.
    """

    def change(r: Referral, now: datetime.datetime) -> Step:
        r.submit(at=now)
        return Step(data={"target": r.target_id, "target_name": r.target.name})

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        _open_handling(r, r.target, now)
        tell(r, "target", NotificationKind.REFERRAL_RECEIVED, _("新移交案件 %s") % r.number, _excerpt(r.summary), by=by)

    return perform(referral, by=by, action="submit", change=change, check=missing_for_submit, after=after)


def _check_route_target(referral: Referral, target: Organisation, *, within: str) -> None:
    if target.pk == referral.target_id:
        raise InvalidInput({"target": [_("新的接收单位不能与当前接收单位相同。")]})
    if not target.accepts_referrals:
        raise InvalidInput({"target": [_("%s不能接收移交案件。") % target.name]})
    if not target.region.code.startswith(within):
        raise InvalidInput({"target": [_("只能分派给本辖区内的调解组织。")]})


def dispatch_referral(referral: Referral, *, by, target: Organisation, note: str = "") -> Referral:
    """Route a referral onward (分派). From: submitted, at a justice bureau or governance centre.

    Who: a dispatcher of the current target. Restarts the acceptance clock; tells the new target
    and the origin office.
    """

    def change(r: Referral, now: datetime.datetime) -> Step:
        _check_route_target(r, target, within=r.target.region.code)
        previous = r.target
        r.dispatch(target=target, at=now)
        return Step(
            note=note,
            data={"from": previous.pk, "from_name": previous.name, "target": target.pk, "target_name": target.name},
        )

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        _end_handling(r, Handling.Result.DISPATCHED, now)
        _open_handling(r, target, now)
        tell(r, "target", NotificationKind.REFERRAL_RECEIVED, _("新分派案件 %s") % r.number, _excerpt(r.summary), by=by)
        tell(
            r,
            "origin",
            NotificationKind.REFERRAL_ROUTED,
            _("%(number)s 已分派至 %(target)s") % {"number": r.number, "target": target.name},
            note,
            by=by,
        )

    return perform(referral, by=by, action="dispatch", change=change, after=after)


def accept_referral(
    referral: Referral, *, by, mediators: Sequence[Mediator], rights_explained: bool, note: str = ""
) -> Referral:
    """Accept a referral for mediation (受理). From: submitted, at a mediation committee.

    Who: a mediator of the target committee. Needs a lead mediator (the first of ``mediators``)
    from the committee's active roster, and the parties told their rights and duties. Starts the
    mediation clock; tells the origin office.
    """

    def change(r: Referral, now: datetime.datetime) -> Step:
        r.accept(lead=mediators[0], at=now)
        r.mediators.set(mediators)
        return Step(note=note, data={"mediators": [m.pk for m in mediators], "lead": mediators[0].name})

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        _end_handling(r, Handling.Result.ACCEPTED, now)
        tell(
            r,
            "origin",
            NotificationKind.REFERRAL_ACCEPTED,
            _("%(number)s 已被 %(target)s 受理") % {"number": r.number, "target": r.target.name},
            _("主调解员：%s") % mediators[0].name,
            by=by,
        )

    return perform(
        referral,
        by=by,
        action="accept",
        change=change,
        check=lambda r: missing_for_accept(r, mediators, rights_explained),
        after=after,
    )


def decline_referral(referral: Referral, *, by, reason: str, note: str = "") -> Referral:
    """Return a referral to the origin office (退回). From: submitted.

    Who: a mediator or dispatcher of the target. Needs a reason code (and a note for "other").
    A second return flags the referral as ping-pong and tells the supervising bureau.
    """
    if reason not in DeclineReason.values:
        raise InvalidInput({"reason": [_("未知的退回原因：%s") % reason]})
    if reason == DeclineReason.OTHER and not note.strip():
        raise InvalidInput({"note": [_("退回原因为“其他”时须填写说明。")]})

    def change(r: Referral, now: datetime.datetime) -> Step:
        target = r.target
        r.decline(at=now)
        return Step(
            note=note,
            data={
                "reason": reason,
                "reason_label": str(DeclineReason(reason).label),
                "by_organisation": target.pk,
                "by_name": target.name,
            },
        )

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        _end_handling(r, Handling.Result.DECLINED, now)
        tell(
            r,
            "origin",
            NotificationKind.REFERRAL_RETURNED,
            _("%(number)s 被 %(target)s 退回") % {"number": r.number, "target": r.target.name},
            step.data["reason_label"] + (f"：{note}" if note else ""),
            by=by,
        )
        if r.ping_pong:
            tell(
                r,
                "supervisors",
                NotificationKind.PING_PONG,
                _("%(number)s 已被退回 %(n)d 次") % {"number": r.number, "n": r.returns_count},
                _excerpt(r.summary),
                by=by,
            )

    return perform(referral, by=by, action="decline", change=change, after=after)


def redirect_referral(referral: Referral, *, by, target: Organisation, note: str = "") -> Referral:
    """Refer a returned referral again, to another receiver (重新移交). From: declined.

    Who: an officer of the origin office, or — once it is ping-pong — a dispatcher of the
    supervising justice bureau. Restarts the acceptance clock; tells the new target.
    """

    def change(r: Referral, now: datetime.datetime) -> Step:
        if permissions.Actor.of(by, r).origin_officer:
            check_target(target, origin=r.origin)
        else:
            bureau_codes = permissions.grants_of(by).region_codes("route_region")
            _check_route_target(r, target, within=next(c for c in bureau_codes if r.region_code.startswith(c)))
        if target.pk == r.target_id:
            raise InvalidInput({"target": [_("刚退回的单位不能再次作为接收单位，请选择其他单位。")]})
        r.redirect(target=target, at=now)
        return Step(note=note, data={"target": target.pk, "target_name": target.name})

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        _open_handling(r, target, now)
        tell(r, "target", NotificationKind.REFERRAL_RECEIVED, _("新移交案件 %s") % r.number, _excerpt(r.summary), by=by)

    return perform(referral, by=by, action="redirect", change=change, after=after)


def extend_mediation(referral: Referral, *, by, days: int, reason: str, parties_consented: bool) -> Referral:
    """Extend the mediation period (延期). From: mediating, not suspended.

    Who: a mediator of the handling committee. Only with both parties' consent; each extension
    and their total are capped by settings.
    """
    limit = settings.FANGDIAO["EXTENSION_MAX_DAYS"]
    if not 1 <= days <= limit:
        raise InvalidInput({"days": [_("每次延长天数应在1至%d天之间。") % limit]})
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写延期原因。")]})

    def check(r: Referral) -> list[Missing]:
        if not parties_consented:
            return [Missing("parties_consented", _("双方当事人同意延长调解期限"))]
        return []

    def change(r: Referral, now: datetime.datetime) -> Step:
        total = settings.FANGDIAO["EXTENSIONS_MAX_TOTAL_DAYS"]
        if r.extension_days + days > total:
            raise InvalidInput(
                {
                    "days": [
                        _("累计延长不得超过%(total)d天(已延长%(used)d天)。")
                        % {"total": total, "used": r.extension_days}
                    ]
                }
            )
        r.extend(days=days)
        return Step(note=reason, data={"days": days, "total": r.extension_days})

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        Extension.objects.create(
            referral=r, days=days, reason=reason, parties_consented=True, round=r.round, by=by, at=now
        )
        tell(
            r,
            "origin",
            NotificationKind.REFERRAL_UPDATED,
            _("%(number)s 调解期限延长%(days)d天") % {"number": r.number, "days": days},
            reason,
            by=by,
        )

    return perform(referral, by=by, action="extend", change=change, check=check, after=after)


def suspend_mediation(referral: Referral, *, by, reason: str) -> Referral:
    """Pause the mediation clock (中止), e.g. while waiting for an appraisal. From: mediating.

    Who: a mediator of the handling committee. The pause is kept as a ledger entry.
    """
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写中止原因。")]})

    def change(r: Referral, now: datetime.datetime) -> Step:
        r.suspend(at=now)
        return Step(note=reason)

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        Suspension.objects.create(referral=r, started_at=now, reason=reason, started_by=by)
        tell(r, "origin", NotificationKind.REFERRAL_UPDATED, _("%s 调解中止") % r.number, reason, by=by)

    return perform(referral, by=by, action="suspend", change=change, after=after)


def resume_mediation(referral: Referral, *, by, note: str = "") -> Referral:
    """Restart the mediation clock after a pause (恢复). From: mediating, suspended.

    The paused days are added to the mediation period.
    """

    def change(r: Referral, now: datetime.datetime) -> Step:
        Suspension.objects.filter(referral=r, ended_at__isnull=True).update(ended_at=now, ended_by=by)
        r.resume()
        return Step(note=note)

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        tell(r, "origin", NotificationKind.REFERRAL_UPDATED, _("%s 恢复调解") % r.number, note, by=by)

    return perform(referral, by=by, action="resume", change=change, after=after)


def close_referral(referral: Referral, *, by, note: str) -> Referral:
    """Review the outcome and close the petition (审核办结). From: succeeded, failed or declined.

    Who: a reviewer of the origin office. Needs the review note and the outcome's own elements
    (the mediation dossier's must-items are registered by the mediation app).
    """

    def check(r: Referral) -> list[Missing]:
        return [] if note.strip() else [Missing("review_note", _("审核意见"))]

    def change(r: Referral, now: datetime.datetime) -> Step:
        r.close(note=note, at=now)
        return Step(note=note)

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        tell(r, "origin", NotificationKind.REFERRAL_CLOSED, _("%s 已审核办结") % r.number, note, by=by)
        if r.target_id:
            tell(r, "target", NotificationKind.REFERRAL_CLOSED, _("%s 已审核办结") % r.number, note, by=by)

    return perform(referral, by=by, action="close", change=change, check=check, after=after)


def reopen_referral(referral: Referral, *, by, reason: str) -> Referral:
    """Send a concluded or closed referral back for another round of mediation (重新调解).

    From: succeeded, failed or closed. Who: a reviewer of the origin office (e.g. after a
    dissatisfied follow-up). Starts a new mediation round and clock; tells the committee.
    """
    if not reason.strip():
        raise InvalidInput({"reason": [_("请填写重新调解的原因。")]})

    def change(r: Referral, now: datetime.datetime) -> Step:
        r.reopen(at=now)
        return Step(note=reason, data={"round": r.round})

    def after(r: Referral, step: Step, now: datetime.datetime) -> None:
        tell(r, "target", NotificationKind.REFERRAL_REOPENED, _("%s 需重新调解") % r.number, reason, by=by)

    return perform(referral, by=by, action="reopen", change=change, after=after)
