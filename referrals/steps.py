"""The one way anything about a referral changes: ``with step(referral, by=..., action=...) as s:``.

A step opens a transaction and locks the referral's row (a new draft has no row yet), checks that the
user may take the action now (``referrals/permissions.py``) and that its required elements are there
— the caller's and those other apps registered for the action, all missing ones at once — then runs
the body. After the body it runs the hooks other apps registered, recomputes the deadline, saves
exactly the fields that changed, keeps the statistics' running totals in step, writes the timeline
event and, after commit, tells every open page that shows the referral. Two people pressing buttons
at once: the second waits for the lock, finds the state changed, and gets ``NotAvailable`` (409).

The body works on ``s.referral`` (the locked row, not the caller's copy) and may set ``s.note`` and
``s.data`` for the timeline. Whatever it creates it simply returns after the ``with`` block. For a new
draft (``referral.pk`` is None) the body inserts the row itself, once its number is issued.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from notifications.service import broadcast_referral_changed, notify
from referrals import permissions, rollup
from referrals.deadlines import apply_deadline
from referrals.errors import Missing, MissingElements, NotAvailable
from referrals.models import Party, Referral, TimelineEvent
from referrals.registry import registry

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class Step:
    """What the body of a step works on, and what it says about itself for the timeline."""

    referral: Referral
    by: User
    action: str
    now: datetime.datetime
    note: str = ""
    data: dict[str, object] = field(default_factory=dict)


def _snapshot(referral: Referral) -> dict[str, object]:
    return {
        f.attname: getattr(referral, f.attname)
        for f in Referral._meta.concrete_fields
        if not (f.primary_key or f.generated)
    }


def _lock(pk: int) -> Referral:
    try:
        return (
            # FOR NO KEY UPDATE: a step changes no key, so rows that merely point at this referral (a
            # new draft's repeat_of, checked at commit since Django's foreign keys are deferred) need
            # not wait for it; a plain FOR UPDATE made such a draft and this step deadlock.
            Referral.objects.select_for_update(of=("self",), no_key=True)
            .select_related("origin", "target", "target__region", "region")
            .get(pk=pk)
        )
    except Referral.DoesNotExist:
        raise NotAvailable() from None


@contextmanager
def step(
    referral: Referral,
    *,
    by: User,
    action: str,
    missing: Callable[[Referral], list[Missing]] | None = None,
) -> Iterator[Step]:
    """Run the body of one workflow step (see the module docstring)."""
    with transaction.atomic():
        new = referral.pk is None
        locked = referral if new else _lock(referral.pk)
        permissions.require(by, locked, action)
        problems = (missing(locked) if missing else []) + [
            m for check in registry.checks(action) for m in check(locked)
        ]
        if problems:
            raise MissingElements(problems)
        s = Step(locked, by, action, timezone.now())
        from_state = "" if new else locked.state
        before = {} if new else _snapshot(locked)
        with rollup.tracked(None if new else locked.pk):
            try:
                yield s
            except (TransitionNotAllowed, ConcurrentTransition):
                raise NotAvailable() from None
            for hook in registry.after(action):
                hook(locked)
            if new:
                # The body inserted the row (it needs its id for the parties); only a deadline that
                # moved since is still to save.
                moved = apply_deadline(locked)
                if moved:
                    locked.save(update_fields=moved)
            else:
                apply_deadline(locked)
                # Save exactly what the step changed (update_fields), so that a concurrent edit of
                # another column is never overwritten with a stale value.
                changed = [k for k, v in _snapshot(locked).items() if before[k] != v]
                if changed:
                    locked.save(update_fields=sorted({"updated_at", *changed}))
        if new:
            rollup.record_new(locked.pk)
        _record(locked, actor=by, action=action, from_state=from_state, note=s.note, data=s.data)


def _record(
    referral: Referral, *, actor: User | None, action: str, from_state: str, note: str, data: dict[str, object]
) -> None:
    """The change's timeline event, and every open page that shows the referral told of it (after commit)."""
    event = TimelineEvent.objects.create(
        referral=referral,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=referral.state,
        note=note,
        data=data,
    )
    broadcast_referral_changed(permissions.organisations_watching(referral), referral.pk, referral.state, event.pk)


@dataclass
class PartyStep:
    """What a party's own step works on (``party_step``)."""

    referral: Referral
    party: Party
    note: str = ""
    data: dict[str, object] = field(default_factory=dict)


@contextmanager
def party_step(party: Party, *, action: str) -> Iterator[PartyStep]:
    """A change a party makes through their personal link (``messaging/links.py``): no user, so no
    permission to ask — the caller has checked the link and its code. Like ``step``: one transaction,
    the referral locked, the running totals kept, a timeline event (no actor; the party named in its
    data) and the pages told after commit. The state does not change."""
    with transaction.atomic():
        locked = _lock(party.referral_id)
        s = PartyStep(locked, party)
        with rollup.tracked(locked.pk):
            yield s
        _record(
            locked,
            actor=None,
            action=action,
            from_state=locked.state,
            note=s.note,
            data={"party": party.pk, "role": party.role, **s.data},
        )


def referral_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def tell(referral: Referral, who: str, kind: str, title: str, body: str = "", *, by: User | None = None) -> None:
    """Notify an audience of the referral (``permissions.audience``), never the actor."""
    notify(
        permissions.audience(referral, who),
        kind=kind,
        title=title,
        body=body,
        url=referral_url(referral),
        referral_id=referral.pk,
        exclude=[by.pk] if by else [],
    )


def excerpt(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
