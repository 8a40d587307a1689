"""The one registry of what can be done with a referral, and the one way a later app adds to it.

Every action — a workflow step such as 受理, or a record such as a mediation session — is one
``Action``: its name (the noun used by the URL, the API, the timeline event and the tests), its
label, the rule saying who may take it and when, the workflow function that does it, the page form
and the API serializer that read its input, and its place among the referral page's buttons. Pages,
the API, the buttons and the timeline iterate this registry; nothing keeps a second table of actions.

Each app describes what it adds as one ``Extension`` and registers it once, in its
``AppConfig.ready()``: its actions, the required elements it adds to other steps, what must follow
a step, the keys it adds to the referral's JSON, the panels it adds to the referral page, its
reminder sweeps, its statistics and its running totals. ``referrals`` itself is the first extension;
``mediation`` the second. The dependency stays one way (referrals never imports mediation): the
registry holds what mediation hands it.

Registration closes when Django's app registry is ready, so nothing depends on import order.
See docs/actions.md for adding an action.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.apps import apps

if TYPE_CHECKING:
    from django import forms
    from django.db.models import Prefetch, QuerySet
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise
    from rest_framework.serializers import BaseSerializer

    from referrals.errors import Missing
    from referrals.models import Referral
    from referrals.permissions import Actor, AnyUser
    from referrals.rollup import Source
    from referrals.stats.figures import StatsSource

    # What a referral lacks for an action (its required elements), and what runs after one.
    Check = Callable[[Referral], list[Missing]]
    Hook = Callable[[Referral], None]
    Hold = Callable[[Referral], str]

# An action shown in the referral page's action bar and posted to /api/referrals/{id}/actions/<name>/.
STEP = "step"
# A record added through a panel of the referral page and its own API resource (a session, a follow-up).
RECORD = "record"
# A rule only (editing a draft, registering one): no form of its own in the action bar.
RULE = "rule"


@dataclass(frozen=True)
class Action:
    """One thing a person may do with a referral (see the module docstring)."""

    name: str
    label: StrOrPromise  # a lazy translation
    who: Callable[[Actor, Referral], bool]
    when: Callable[[Referral], bool]
    kind: str = STEP
    # The workflow function: (referral, *, by, **payload) — or, for an action on one record of the
    # referral (answering an order), (record, *, by, **payload), with a page of its own and no ``form``.
    run: Callable[..., Any] | None = None
    form: type[forms.Form] | None = None  # the referral page's form: ActionForm(data, referral=, user=) with .payload()
    serializer: type[BaseSerializer[Any]] | None = None  # API request body, validated_data == payload
    order: int = 1000  # position among the buttons (steps) or panels' forms
    done: StrOrPromise = ""  # what the page says after it worked; default "已<label>"
    confirm: StrOrPromise = ""  # the question a page asks before it runs (irreversible steps)
    # What a 409 says when the action is the user's but not possible now (``when`` is false); the
    # general "not in this state" message when empty. A function of the referral where the reason
    # depends on it (which of several conditions is missing).
    refused: StrOrPromise | Callable[[Referral], str] = ""

    def refusal(self, referral: Referral) -> str:
        return self.refused(referral) if callable(self.refused) else str(self.refused)


@dataclass(frozen=True)
class Section:
    """A key of the referral's JSON, with the prefetches that keep list pages at constant queries."""

    name: str
    prefetch: tuple[str | Prefetch[str, QuerySet[Any], str], ...]
    serialize: Callable[[Referral, AnyUser, bool], Any]  # (referral, user, full personal data?) → JSON value
    # One-to-one relations read in the referrals' own query (a join, not one more query).
    select: tuple[str, ...] = ()


@dataclass(frozen=True)
class Panel:
    """A part of the referral page (sessions, agreement, dossier...) rendered by its app."""

    name: str
    template: str
    context: Callable[[HttpRequest, Referral], dict[str, Any] | None]  # template context, None: not shown
    order: int = 100


@dataclass(frozen=True)
class GroupPanel:
    """A part of a 类案 group's page rendered by its app (mediation's combined session)."""

    name: str
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]  # (request, group) → context, None: not shown
    order: int = 100


Sweep = Callable[[datetime.datetime], int]


@dataclass(frozen=True)
class Extension:
    """Everything one app adds to referrals, registered once in its ``ready()``."""

    name: str
    actions: Sequence[Action] = ()
    # Elements another action needs that this app can check (the dossier before 审核办结).
    checks: Mapping[str, Sequence[Check]] = field(default_factory=dict)
    # Run inside a step's transaction after the change (mediation marks a reopened case's agreement).
    after: Mapping[str, Sequence[Hook]] = field(default_factory=dict)
    # What this app holds another action back for (a 复查 under way holds back 重新调解): the reason, said
    # by the 409, or "" when it does not. Read for every row of a list: from prefetched data only.
    holds: Mapping[str, Sequence[Hold]] = field(default_factory=dict)
    sections: Sequence[Section] = ()
    panels: Sequence[Panel] = ()
    # What the user has to do with the referral besides the action bar's steps, shown in the page's
    # 办理 card (the committee's "卷宗待补充" with its upload form); the same shape as a panel.
    tasks: Sequence[Panel] = ()
    group_panels: Sequence[GroupPanel] = ()
    sweeps: Mapping[str, Sweep] = field(default_factory=dict)
    stats: StatsSource | None = None
    rollups: Sequence[Source] = ()
    # The ledger's 调解结果 and 协议金额 cells of concluded referrals, read in bulk (a ledger is tens of
    # thousands of rows): {referral id: its current round} → {referral id: (result, amount or None)}.
    ledger_outcomes: Callable[[Mapping[int, int]], Mapping[int, tuple[str, float | None]]] | None = None
    # Labels of timeline events that are not actions (e.g. "create" of a draft has its own action).
    events: Mapping[str, StrOrPromise] = field(default_factory=dict)


class RegistryClosed(RuntimeError):
    pass


class Registry:
    """The extensions in registration order, and what they add up to (computed once, then fixed)."""

    def __init__(self) -> None:
        self._extensions: list[Extension] = []

    def register(self, extension: Extension) -> None:
        if apps.ready:
            raise RegistryClosed(f"{extension.name}: register extensions in AppConfig.ready(), not later")
        if any(e.name == extension.name for e in self._extensions):
            raise ValueError(f"extension {extension.name} registered twice")
        names = {a.name for e in self._extensions for a in e.actions}
        clash = names & {a.name for a in extension.actions}
        if clash:
            raise ValueError(f"actions registered twice: {sorted(clash)}")
        self._extensions.append(extension)

    @property
    def extensions(self) -> tuple[Extension, ...]:
        return tuple(self._extensions)

    @cached_property
    def _actions(self) -> dict[str, Action]:
        self._require_ready()
        return {a.name: a for e in self._extensions for a in e.actions}

    def _require_ready(self) -> None:
        # What is read before every app has registered would be incomplete, and then cached.
        if not apps.ready:
            raise RegistryClosed("the action registry is read before every app has registered")

    def action(self, name: str) -> Action:
        """The action of this name; ``KeyError`` for an unknown one."""
        return self._actions[name]

    def actions(self, kind: str | None = None) -> list[Action]:
        found = [a for a in self._actions.values() if kind is None or a.kind == kind]
        return sorted(found, key=lambda a: a.order)

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions())

    def checks(self, name: str) -> list[Check]:
        return [check for e in self._extensions for check in e.checks.get(name, ())]

    def after(self, name: str) -> list[Hook]:
        return [hook for e in self._extensions for hook in e.after.get(name, ())]

    def held(self, name: str, referral: Referral) -> str:
        """Why another app holds the action back on this referral now ("" if none does)."""
        return next((why for e in self._extensions for hold in e.holds.get(name, ()) if (why := hold(referral))), "")

    @cached_property
    def sections(self) -> dict[str, Section]:
        self._require_ready()
        return {s.name: s for e in self._extensions for s in e.sections}

    @cached_property
    def panels(self) -> list[Panel]:
        self._require_ready()
        return sorted((p for e in self._extensions for p in e.panels), key=lambda p: p.order)

    @cached_property
    def tasks(self) -> list[Panel]:
        self._require_ready()
        return sorted((t for e in self._extensions for t in e.tasks), key=lambda t: t.order)

    @cached_property
    def group_panels(self) -> list[GroupPanel]:
        self._require_ready()
        return sorted((p for e in self._extensions for p in e.group_panels), key=lambda p: p.order)

    @cached_property
    def sweeps(self) -> dict[str, Sweep]:
        self._require_ready()
        return {name: sweep for e in self._extensions for name, sweep in e.sweeps.items()}

    @cached_property
    def stats_sources(self) -> list[StatsSource]:
        self._require_ready()
        return [e.stats for e in self._extensions if e.stats is not None]

    @cached_property
    def rollup_sources(self) -> dict[str, Source]:
        self._require_ready()
        return {s.name: s for e in self._extensions for s in e.rollups}

    def ledger_outcomes(self, rounds: Mapping[int, int]) -> dict[int, tuple[str, float | None]]:
        self._require_ready()
        found: dict[int, tuple[str, float | None]] = {}
        for e in self._extensions:
            if e.ledger_outcomes is not None and rounds:
                found |= e.ledger_outcomes(rounds)
        return found

    def event_label(self, event: str) -> str:
        if event in self._actions:
            return str(self._actions[event].label)
        for e in self._extensions:
            if event in e.events:
                return str(e.events[event])
        return event


registry = Registry()
