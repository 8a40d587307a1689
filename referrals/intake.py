"""Registering a referral (登记) and editing the draft: the petition office's own working paper.

Forms and serializers check shapes, codes and lengths and hand over a ``ReferralInput``; these two
workflow functions store it. Both are steps (``referrals/steps.py``), so a draft gets its timeline
event, its running totals and its live push like any other change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import permissions, repeats
from referrals.deadlines import acceptance_limit, apply_deadline, late_acceptance
from referrals.errors import InvalidInput
from referrals.filters import character_pairs
from referrals.models import Party, Referral
from referrals.numbering import next_number
from referrals.steps import step
from townships.models import Organisation
from townships.validators import validate_id_number, validate_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# 民族 is a natural person's: ``clean_party`` refuses it for an organisation (the form and the API alike).
ORGANISATION_ETHNICITY = gettext_lazy("单位、组织类当事人不填写民族。")
ONLINE_CONSENT_IS_THE_PARTYS = gettext_lazy("“当事人在线确认”只能由当事人本人通过个人链接作出，工作人员不能登记。")

# 统一社会信用代码 (GB 32100) has 18 characters, like an ID number.
CREDIT_CODE_LENGTH = 18


@dataclass
class PartyInput:
    role: str
    kind: str
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    ethnicity: str = ""
    consent_given_on: datetime.date | None = None
    consent_method: str = ""

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], *, consent_given_on: datetime.date | None, consent_method: str
    ) -> PartyInput:
        """From the values a form or a serializer checked (with ``clean_party``); they differ only in
        how they carry the consent."""
        return cls(
            role=values["role"],
            kind=values["kind"],
            name=values["name"].strip(),
            id_number=values.get("id_number", ""),
            phone=values.get("phone", ""),
            address=values.get("address", "").strip(),
            ethnicity=values.get("ethnicity", ""),
            consent_given_on=consent_given_on,
            consent_method=consent_method,
        )


@dataclass
class ReferralInput:
    """Validated intake data."""

    received_on: datetime.date
    category: str
    summary: str
    claims: str
    petition_no: str = ""
    target: Organisation | None = None
    scope_ground: str = ""
    exclusions_absent: list[str] = field(default_factory=list)
    parties: list[PartyInput] = field(default_factory=list)
    # The office's acceptance (受理日期): the petition clock's start; None means the day of receipt.
    petition_accepted_on: datetime.date | None = None

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], *, scope_ground: str, exclusions_absent: list[str], parties: list[PartyInput]
    ) -> ReferralInput:
        """From the values a form or a serializer checked; they differ in how they carry the scope and
        the parties."""
        return cls(
            received_on=values["received_on"],
            petition_accepted_on=values.get("petition_accepted_on"),
            category=values["category"],
            summary=values.get("summary", "").strip(),
            claims=values.get("claims", "").strip(),
            petition_no=values.get("petition_no", "").strip(),
            target=values.get("target"),
            scope_ground=scope_ground,
            exclusions_absent=exclusions_absent,
            parties=parties,
        )


def petition_acceptance_errors(received_on: datetime.date | None, accepted_on: datetime.date | None) -> list[str]:
    """What is wrong with an acceptance date (受理日期): never before the petition was received. Later
    than 15 days after receipt is allowed, with a warning (``acceptance_warning``)."""
    if received_on and accepted_on and accepted_on < received_on:
        return [
            _("信访受理日期(%(accepted)s)不能早于信访登记日期(收到信访之日，%(received)s)。")
            % {"accepted": accepted_on.isoformat(), "received": received_on.isoformat()}
        ]
    return []


def acceptance_warning(received_on: datetime.date, accepted_on: datetime.date | None) -> str:
    """The warning for an acceptance later than the 15 days after receipt, or ""."""
    if not late_acceptance(received_on, accepted_on):
        return ""
    return _(
        "信访受理日期%(accepted)s晚于收到信访之日起%(days)d日(%(limit)s)：信访部门应在收到信访事项之日起%(days)d日内"
        "决定是否受理。已按信访受理日期起算%(petition)d日办理期限，请核实。"
    ) % {
        "accepted": accepted_on.isoformat() if accepted_on else "",
        "days": settings.FANGDIAO["PETITION_ACCEPT_DAYS"],
        "limit": acceptance_limit(received_on).isoformat(),
        "petition": settings.FANGDIAO["PETITION_DAYS"],
    }


def clean_party(kind: str, id_number: str, phone: str, ethnicity: str) -> tuple[str, str, dict[str, list[str]]]:
    """A party's ID number (or an organisation's credit code) and phone as stored, and what is wrong
    with them and its 民族 by field: the one check behind the registration form and the API."""
    errors: dict[str, list[str]] = {}
    if id_number:
        if kind == Party.Kind.PERSON:
            try:
                id_number = validate_id_number(id_number)
            except ValidationError as exc:
                errors["id_number"] = [str(m) for m in exc.messages]
        elif len(id_number.strip()) != CREDIT_CODE_LENGTH:
            errors["id_number"] = [_("统一社会信用代码应为18位。")]
        else:
            id_number = id_number.strip().upper()
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = [str(m) for m in exc.messages]
    if ethnicity and kind != Party.Kind.PERSON:
        errors["ethnicity"] = [str(ORGANISATION_ETHNICITY)]
    return id_number, phone, errors


def _write_parties(referral: Referral, parties: Iterable[PartyInput]) -> None:
    parties = list(parties)
    _online_consents_kept(parties, [])
    Party.objects.bulk_create([Party(referral=referral, position=i, **vars(p)) for i, p in enumerate(parties)])


def _rewrite_parties(referral: Referral, parties: list[PartyInput]) -> None:
    """A draft's parties as edited. The row of a party whose name is unchanged at its place is kept
    (updated), so that their personal link and the messages sent to them stay theirs; another name
    is another person: a new row (the old one, its link with it, goes)."""
    current = list(referral.parties.order_by("position", "id"))
    _online_consents_kept(parties, current)
    kept = []
    for i, p in enumerate(parties):
        old = current[i] if i < len(current) else None
        if old is not None and old.name == p.name:
            for name, value in vars(p).items():
                setattr(old, name, value)
            old.position = i
            old.save()
            kept.append(old.pk)
        else:
            kept.append(Party.objects.create(referral=referral, position=i, **vars(p)).pk)
    referral.parties.exclude(pk__in=kept).delete()


def _online_consents_kept(parties: list[PartyInput], current: list[Party]) -> None:
    """``online`` is the party's own consent through their link: staff may keep it, never write it."""
    for i, p in enumerate(parties):
        if p.consent_method != Party.ConsentMethod.ONLINE:
            continue
        old = current[i] if i < len(current) else None
        if not (
            old is not None
            and old.name == p.name
            and old.consent_method == Party.ConsentMethod.ONLINE
            and old.consent_given_on == p.consent_given_on
        ):
            raise InvalidInput({f"parties.{i}.consent": [str(ONLINE_CONSENT_IS_THE_PARTYS)]})


def _write_input(referral: Referral, data: ReferralInput, *, by: User) -> None:
    if data.target is not None and not permissions.referral_targets(referral.origin).filter(pk=data.target.pk).exists():
        raise InvalidInput({"target": [_("只能移交给本市可接收移交的调委会、司法局或综治中心。")]})
    if errors := petition_acceptance_errors(data.received_on, data.petition_accepted_on):
        raise InvalidInput({"petition_accepted_on": errors})
    referral.search_text = " ".join([data.summary, *(p.name for p in data.parties)])
    referral.search_pairs = character_pairs(referral.search_text)
    referral.received_on = data.received_on
    referral.petition_accepted_on = data.petition_accepted_on or data.received_on
    referral.category = data.category
    referral.summary = data.summary
    referral.claims = data.claims
    referral.petition_no = data.petition_no
    referral.scope_ground = data.scope_ground
    referral.exclusions_absent = sorted(set(data.exclusions_absent))
    if data.target is not None:
        referral.set_target(data.target)
    else:
        referral.target = None
        referral.region = referral.origin.region
        referral.region_code = referral.origin.region.code
    # The earlier referral this one most likely repeats, among those the registering officer may see
    # (referrals/repeats.py): kept for the list's "重复件" flag, never shown to anyone who may not see it.
    found = repeats.find(data.parties, user=by, exclude=referral.pk)
    referral.repeat_of = found[0].referral if found else None


def create_referral(*, by: User, origin: Organisation, data: ReferralInput) -> Referral:
    """Register a draft referral for a petition office (登记).

    Who: an officer of ``origin``. Side effects: a number is issued; a ``create_referral`` event.
    """
    referral = Referral(origin=origin, created_by=by)
    with step(referral, by=by, action="create_referral") as s:
        _write_input(s.referral, data, by=by)
        s.referral.number = next_number(origin.region)
        apply_deadline(s.referral)
        s.referral.save()
        _write_parties(s.referral, data.parties)
        s.data = {"number": s.referral.number}
    return s.referral


def update_draft(referral: Referral, *, by: User, data: ReferralInput) -> Referral:
    """Replace a draft's contents. Who: an officer of the origin office; only while a draft."""
    with step(referral, by=by, action="update_draft") as s:
        _write_input(s.referral, data, by=by)
        _rewrite_parties(s.referral, list(data.parties))
    return s.referral


def consent_online(party: Party) -> bool:
    """The party's own consent to mediation, given through their personal link (method ``online``).

    Only where none is recorded: a consent the office registered is never replaced. False if there
    was one already (two taps, or the office recorded it meanwhile).
    """
    from referrals.steps import party_step

    try:
        with party_step(party, action="party_consent") as s:
            done = Party.objects.filter(pk=party.pk, consent_given_on__isnull=True).update(
                consent_given_on=timezone.localdate(), consent_method=Party.ConsentMethod.ONLINE
            )
            if not done:
                raise _AlreadyGiven  # rolls the timeline entry back with it
            s.data = {"method": Party.ConsentMethod.ONLINE}
    except _AlreadyGiven:
        return False
    return True


class _AlreadyGiven(Exception):
    pass
