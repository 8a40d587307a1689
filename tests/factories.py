"""Small hand-written factories (no factory library): each makes one valid thing."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from referrals import intake
from referrals.models import Exclusion, Party, Referral, ScopeGround
from referrals.permissions import forget_grants
from referrals.workflow import PartyConsent
from townships.models import Mediator, Membership, Organisation, Region
from townships.validators import make_id_number

User = get_user_model()
_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


# The Jiangmen date, read when each test runs, never at collection: a run that crosses midnight stays right.
def today() -> datetime.date:
    return timezone.localdate()


def day(offset: int = 0) -> str:
    """The ISO date ``offset`` days from today, as a form or the API takes it."""
    return (today() + datetime.timedelta(days=offset)).isoformat()


def org(name: str) -> Organisation:
    return Organisation.objects.select_related("region").get(name=name)


def committee(township_code: str) -> Organisation:
    return Organisation.objects.select_related("region").get(
        region__code=township_code, kind=Organisation.Kind.MEDIATION_COMMITTEE
    )


def make_user(username: str | None = None, *, name: str = "", memberships=(), **extra) -> User:
    username = username or f"user{next(_seq)}"
    user = User.objects.create_user(username=username, password=PASSWORD, first_name=name or username, **extra)
    for organisation, role in memberships:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    forget_grants(user)
    return user


def make_mediator(
    committee: Organisation, *, name: str | None = None, male: bool = False, user=None, active: bool = True, **extra
) -> Mediator:
    n = next(_seq)
    return Mediator.objects.create(
        committee=committee,
        name=name or f"调解员{n}",
        sex="M" if male else "F",
        id_number=make_id_number(
            committee.region.code, datetime.date(1975, 1, 1) + datetime.timedelta(days=n), n, male=male
        ),
        mobile=f"139{n:08d}"[:11],
        user=user,
        active=active,
        **extra,
    )


def person(
    role: str,
    name: str,
    *,
    serial: int,
    consent: bool = True,
    male: bool = True,
    phone: str = "",
    region: str = "440703",
) -> intake.PartyInput:
    return intake.PartyInput(
        role=role,
        kind=Party.Kind.PERSON,
        name=name,
        id_number=make_id_number(region, datetime.date(1980, 5, 17), serial, male=male),
        phone=phone or f"1380000{serial:04d}",
        address="江门市蓬江区环市街道建设路1号",
        consent_given_on=timezone.localdate() if consent else None,
        consent_method=Party.ConsentMethod.WRITTEN if consent else "",
    )


def referral_input(target: Organisation | None, **overrides) -> intake.ReferralInput:
    n = next(_seq)
    data = {
        "received_on": timezone.localdate(),
        "category": "neighbour",
        "summary": "邻里之间因排水沟堵塞引发纠纷，双方多次争吵。",
        "claims": "请求对方疏通排水沟并赔偿损失500元。",
        "petition_no": f"XF-{n:05d}",
        "target": target,
        "scope_ground": ScopeGround.CIVIL_BETWEEN_CITIZENS,
        "exclusions_absent": list(Exclusion.values),
        "parties": [
            person(Party.Role.PETITIONER, "王大明", serial=n * 2),
            person(Party.Role.RESPONDENT, "李小红", serial=n * 2 + 1, male=False),
        ],
    }
    data.update(overrides)
    return intake.ReferralInput(**data)


def make_referral(officer, *, origin: Organisation, target: Organisation | None, **overrides) -> Referral:
    return intake.create_referral(by=officer, origin=origin, data=referral_input(target, **overrides))


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def extension_consents(referral: Referral, *, on: datetime.date | None = None, method: str = "written"):
    """Every party's consent to an extension of the mediation period (``workflow.extend_referral``)."""
    day = on or timezone.localdate()
    return [PartyConsent(party=p.pk, consented_on=day, method=method) for p in referral.parties.all()]


def extension_consents_json(referral: Referral, *, on: datetime.date | None = None, method: str = "written"):
    """The same, as the API's ``consents`` (``POST /api/referrals/{id}/actions/extend/``)."""
    return [
        {"party": c.party, "consented_on": c.consented_on.isoformat(), "method": c.method}
        for c in extension_consents(referral, on=on, method=method)
    ]


def extension_consents_form(referral: Referral, *, on: datetime.date | None = None, method: str = "written"):
    """The same, as the page form's fields (one row per party: day and method)."""
    fields = {}
    for c in extension_consents(referral, on=on, method=method):
        fields[f"consent_{c.party}_0"] = c.consented_on.isoformat()
        fields[f"consent_{c.party}_1"] = c.method
    return fields
