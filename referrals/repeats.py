"""The repeat check (重复信访): earlier referrals about the same people.

Two kinds of match, each found by indexed look-ups on the parties table (never a scan of it):

- ``same_dispute`` — both sides come back: a party of the earlier referral is the new petitioner and
  another is the new respondent (in either role). The same dispute again.
- ``same_person`` — the new petitioner was the petitioner of an earlier referral, known by ID number
  or mobile. The same person, perhaps about something else.

Two parties are the same person when their ID numbers are equal, or their phones are equal, or their
names are equal and their ID numbers do not contradict each other (one missing, or the same). A
name alone never makes a ``same_person`` match: two strangers may share a name, but hardly two
strangers with the same name on both sides of a dispute.

Earlier referrals count while open, and once closed for ``REPEAT_WINDOW_MONTHS`` (default 12).

**Nothing the user may not see is named.** Matches are filtered by ``referrals_visible_to(user)``.
Where ID numbers or phones that the user is registering match a referral they may not see, the
petition office gets at most an unnamed hint (``elsewhere``), and only in a way that cannot be used
as a yes/no oracle for arbitrary numbers: only for a draft of the user's own office (the parties
being registered), at most ``REPEAT_HINTS_PER_DAY`` drafts a day per user, and every hint given is
written to the read audit (so a supervisor sees who asked about whom).

The stored ``repeat_of`` (the best match when the draft was made, seen by its office) is shown to
others — the detail, the lists' 重复件 flag, the ``repeat`` filter — only where they may open the
referral it points at: ``shown_repeats`` and ``repeat_filter`` are the one place that decides it.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from referrals.models import OPEN_STATES, Party, Referral, State

SAME_DISPUTE = "same_dispute"
SAME_PERSON = "same_person"
# Enough for an officer to read; a person with more earlier cases than this is a known repeat anyway.
LIMIT = 20


class PartyLike(Protocol):
    role: str
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Match:
    referral: Referral
    kind: str  # SAME_DISPUTE or SAME_PERSON

    @property
    def concluded_on(self) -> datetime.date | None:
        moment = self.referral.concluded_at or self.referral.closed_at
        return timezone.localtime(moment).date() if moment else None


@dataclass(frozen=True)
class RepeatCheck:
    matches: list[Match]  # the ones the user may see, best first
    # An unnamed "the same people may have a case elsewhere": True, False, or None when it was not
    # asked (not a draft of the user's office) or the daily allowance is spent ("exhausted").
    elsewhere: bool | None = None
    exhausted: bool = False

    @property
    def best(self) -> Referral | None:
        return self.matches[0].referral if self.matches else None


def _window() -> Q:
    cutoff = timezone.now() - datetime.timedelta(days=round(settings.FANGDIAO["REPEAT_WINDOW_MONTHS"] * 30.4375))
    return Q(state__in=OPEN_STATES) | Q(state=State.CLOSED, closed_at__gte=cutoff)


def _same_person(party: PartyLike, *, by_name: bool) -> Q:
    """Party rows that are this person (see the module docstring)."""
    match = Q(pk__in=[])
    if party.id_number:
        match |= Q(id_number=party.id_number)
    if party.phone:
        match |= Q(phone=party.phone)
    if by_name and party.name:
        name = Q(name=party.name)
        if party.id_number:
            name &= Q(id_number="") | Q(id_number=party.id_number)
        match |= name
    return match


def _any_of(parties: Iterable[PartyLike], *, by_name: bool) -> Q:
    match = Q(pk__in=[])
    for party in parties:
        match |= _same_person(party, by_name=by_name)
    return match


def _candidates(parties: Sequence[PartyLike], exclude: int | None) -> dict[int, str]:
    """Referral id → kind, newest first: at most two indexed queries."""
    petitioners = [p for p in parties if p.role == Party.Role.PETITIONER]
    respondents = [p for p in parties if p.role == Party.Role.RESPONDENT]
    found: dict[int, str] = {}
    base = Referral.objects.filter(_window()).exclude(pk=exclude).order_by("-id")
    if petitioners and respondents:
        # Each side is one OR of indexed equalities (id_number, phone, name): a bitmap OR on
        # PostgreSQL, then the two sides intersect as semi-joins on the referral id.
        side_p = Party.objects.filter(_any_of(petitioners, by_name=True)).values("referral_id")
        side_r = Party.objects.filter(_any_of(respondents, by_name=True)).values("referral_id")
        for pk in base.filter(pk__in=side_p).filter(pk__in=side_r).values_list("pk", flat=True)[:LIMIT]:
            found[pk] = SAME_DISPUTE
    strong = [p for p in petitioners if p.id_number or p.phone]
    if strong:
        same = Party.objects.filter(_any_of(strong, by_name=False), role=Party.Role.PETITIONER).values("referral_id")
        for pk in base.filter(pk__in=same).values_list("pk", flat=True)[:LIMIT]:
            found.setdefault(pk, SAME_PERSON)
    return found


def _rank(pk: int, kind: str) -> tuple[int, int]:
    return (0 if kind == SAME_DISPUTE else 1, -pk)


def find(
    parties: Sequence[PartyLike],
    *,
    user,
    exclude: int | None = None,
    visible: QuerySet[Referral] | None = None,
) -> list[Match]:
    """Earlier referrals about these parties that ``user`` may see: same dispute first, newest first."""
    from referrals.permissions import referrals_visible_to

    found = _candidates(parties, exclude)
    if not found:
        return []
    shown = (visible if visible is not None else referrals_visible_to(user)).filter(pk__in=list(found))
    referrals = {r.pk: r for r in shown.select_related("origin", "target")}
    ordered = sorted((pk for pk in found if pk in referrals), key=lambda pk: _rank(pk, found[pk]))
    return [Match(referrals[pk], found[pk]) for pk in ordered]


def check(referral: Referral, *, user, request=None) -> RepeatCheck:
    """The repeat check of a referral's page and API detail, for this user.

    The unnamed hint is only worked out for a draft of the user's own office (see the module
    docstring), and ``request`` (for the read audit) must be given for it.
    """
    from referrals.permissions import can

    parties = list(referral.parties.all())
    matches = find(parties, user=user, exclude=referral.pk)
    if request is None or referral.state != State.DRAFT or not can(user, referral, "update_draft"):
        return RepeatCheck(matches)
    elsewhere = _hint(referral, parties, user, request)
    return RepeatCheck(matches, elsewhere=elsewhere, exhausted=elsewhere is None)


def shown_repeats(rows: Iterable[Referral], user) -> set[int]:
    """The ``repeat_of`` ids among ``rows`` that ``user`` may open (one query for a page of rows)."""
    from referrals.permissions import referrals_visible_to

    wanted = {r.repeat_of_id for r in rows if r.repeat_of_id}
    if not wanted:
        return set()
    return set(referrals_visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True))


def repeat_filter(visible: QuerySet[Referral]) -> Q:
    """Referrals marked as repeats of one in ``visible`` (what the viewer may open)."""
    return Q(repeat_of__in=visible.values("pk"))


def _fingerprint(parties: Iterable[PartyLike]) -> str:
    keys = sorted(f"{p.id_number}|{p.phone}" for p in parties if p.id_number or p.phone)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def _hint(referral: Referral, parties: list[Party], user, request) -> bool | None:
    """Whether ID numbers or phones being registered also appear in referrals hidden from the user.

    Answers are kept per draft and set of identifiers, so looking at the same draft again costs
    nothing; a new set of identifiers costs one of the day's allowance. None once it is spent.
    """
    strong = [p for p in parties if p.id_number or p.phone]
    if not strong:
        return False
    memo = f"repeat-hint:{user.pk}:{referral.pk}:{_fingerprint(strong)}"
    known = cache.get(memo)
    if known is not None:
        return bool(known)
    quota = f"repeat-hints:{user.pk}:{timezone.localdate().isoformat()}"
    cache.add(quota, 0, timeout=86400)
    try:
        used = cache.incr(quota)
    except ValueError:  # the cache lost the key between add and incr
        used = 1
    if used > settings.FANGDIAO["REPEAT_HINTS_PER_DAY"]:
        return None
    from referrals.permissions import referrals_visible_to

    hidden = (
        Party.objects.filter(_any_of(strong, by_name=False))
        .filter(referral__in=Referral.objects.filter(_window()).exclude(state=State.DRAFT))
        .exclude(referral__in=referrals_visible_to(user).values("pk"))
        .exists()
    )
    cache.set(memo, hidden, timeout=86400)
    if hidden:
        from core.audit import log_access
        from core.models import AccessLog

        log_access(
            request,
            AccessLog.Action.REPEAT_HINT,
            referral=referral,
            detail={"parties": [p.name for p in strong]},
        )
    return hidden
