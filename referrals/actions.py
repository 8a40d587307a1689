"""The referral's own actions: who may take each, when, how, and its place on the page.

Each row is one ``Action`` of the registry (``referrals/registry.py``); the mediation app registers
its own (conclusion, sessions, follow-ups...) the same way. Who may act is said with the ``Actor``
predicates of ``referrals/permissions.py``; when, with the state machine (``can_proceed``) and the
referral's own facts. Adding an action: docs/actions.md.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.db import retry_once_on_deadlock
from referrals import forms, intake, permissions, reminders, rollup, serializers, workflow
from referrals.models import DeadlineStatus, Referral, State, Tier
from referrals.permissions import Actor, at_committee, at_router
from referrals.registry import RULE, Action, Extension, registry
from townships.importers import reap_stalled_imports


def fsm(name: str):
    """When the state machine allows the transition of this name."""
    return lambda r: can_proceed(getattr(r, name))


# Who, where one role of ``permissions.Actor`` alone may act (most actions, here and in mediation).


def by_officer(a: Actor, r: Referral) -> bool:
    return a.origin_officer


def by_reviewer(a: Actor, r: Referral) -> bool:
    return a.origin_reviewer


def by_handler(a: Actor, r: Referral) -> bool:
    return a.target_handler


ACTIONS = (
    Action(
        "create_referral",
        _("登记"),
        who=by_officer,
        when=lambda r: True,
        kind=RULE,
        run=intake.create_referral,
    ),
    Action(
        "update_draft",
        _("修改草稿"),
        who=by_officer,
        when=lambda r: r.state == State.DRAFT,
        kind=RULE,
        run=intake.update_draft,
    ),
    Action(
        "submit",
        _("移交"),
        who=by_officer,
        when=fsm("submit"),
        run=workflow.submit_referral,
        form=forms.SubmitForm,
        serializer=serializers.EmptySerializer,
        order=10,
        confirm=_("确认将本案移交给接收单位？"),
    ),
    Action(
        "dispatch",
        _("分派"),
        who=lambda a, r: a.target_dispatcher,
        when=lambda r: fsm("dispatch")(r) and at_router(r),
        run=workflow.dispatch_referral,
        form=forms.DispatchForm,
        serializer=serializers.TargetSerializer,
        order=20,
    ),
    Action(
        "accept",
        _("受理"),
        who=by_handler,
        when=lambda r: fsm("accept")(r) and at_committee(r),
        run=workflow.accept_referral,
        form=forms.AcceptForm,
        serializer=serializers.AcceptSerializer,
        order=30,
    ),
    Action(
        "decline",
        _("退回"),
        who=lambda a, r: a.target_handler or a.target_dispatcher,
        when=fsm("decline"),
        run=workflow.decline_referral,
        form=forms.DeclineForm,
        serializer=serializers.DeclineSerializer,
        order=40,
        confirm=_("确认将本案退回移交单位？"),
    ),
    # The origin office sends a returned referral elsewhere; after two returns ("ping-pong") the
    # supervising bureau's dispatchers may route it themselves.
    Action(
        "redirect",
        _("重新移交"),
        who=lambda a, r: a.origin_officer or (a.router and r.ping_pong),
        when=fsm("redirect"),
        run=workflow.redirect_referral,
        form=forms.RedirectForm,
        serializer=serializers.TargetSerializer,
        order=50,
    ),
    # The origin office takes back a referral its receiver has not accepted yet: a draft again.
    Action(
        "withdraw",
        _("撤回"),
        who=by_officer,
        when=fsm("withdraw"),
        run=workflow.withdraw_referral,
        form=forms.ReasonForm,
        serializer=serializers.ReasonSerializer,
        order=55,
        confirm=_("确认撤回本案？撤回后接收单位将不再看到本案，案件回到草稿。"),
        refused=_("只能撤回已移交、尚未受理的案件。"),
    ),
    Action(
        "extend",
        _("延期"),
        who=by_handler,
        when=fsm("extend"),
        run=workflow.extend_referral,
        form=forms.ExtendForm,
        serializer=serializers.ExtendSerializer,
        order=60,
    ),
    Action(
        "suspend",
        _("中止"),
        who=by_handler,
        when=fsm("suspend"),
        run=workflow.suspend_referral,
        form=forms.ReasonForm,
        serializer=serializers.ReasonSerializer,
        order=70,
    ),
    Action(
        "resume",
        _("恢复调解"),
        who=by_handler,
        when=fsm("resume"),
        run=workflow.resume_referral,
        form=forms.ResumeForm,
        serializer=serializers.NoteSerializer,
        order=80,
    ),
    # 升级调解 (镇村访调联动, 县级统筹): a dispute the township could not resolve goes up a tier rather
    # than simply ending; the county (or city) justice bureau decides, from a failed round or one
    # stalled past its deadline (``workflow.may_escalate``), while a higher tier is there to take it.
    Action(
        "escalate",
        _("升级调解"),
        who=lambda a, r: a.router or a.supervisor,
        when=lambda r: fsm("escalate")(r) and r.tier != Tier.CITY and workflow.may_escalate(r),
        run=workflow.escalate_referral,
        form=forms.EscalateForm,
        serializer=serializers.EscalateSerializer,
        order=102,
        done=_("已升级调解，新一轮调解已开始。"),
        confirm=_("确认将本案升级至更高层级调解？将开始新一轮调解，原调委会的调解记录保留。"),
        refused=_("只有调解终止、或调解超期达到规定天数的案件，才能升级至更高层级调解；市级调解的案件不能再升级。"),
    ),
    # The petition's own clock (信访工作条例 Art. 34): extended once, by at most 30 days, with the
    # approval of the office's head; any open state.
    Action(
        "extend_petition",
        _("延长信访办理期限"),
        who=by_reviewer,
        when=lambda r: r.is_open and not r.petition_extension_days,
        run=workflow.extend_petition_referral,
        form=forms.ExtendPetitionForm,
        serializer=serializers.ExtendPetitionSerializer,
        order=105,
        confirm=_("信访办理期限只能延长一次，确认延长？延长后请向信访人送达延期告知书。"),
        refused=_("信访办理期限只能延长一次，且只能在案件办结前延长。"),
    ),
    Action(
        "close",
        _("审核办结"),
        who=by_reviewer,
        when=fsm("close"),
        run=workflow.close_referral,
        form=forms.CloseForm,
        serializer=serializers.CloseSerializer,
        order=110,
        confirm=_("确认审核办结？办结后信访事项即告结束。"),
    ),
    # The petition office reminds the handler of a referral it sent once the handler's clock has run out.
    Action(
        "urge",
        _("催办"),
        who=lambda a, r: a.origin_officer or a.origin_reviewer,
        when=lambda r: r.state in (State.SUBMITTED, State.MEDIATING) and r.deadline_status() == DeadlineStatus.OVERDUE,
        run=workflow.urge_referral,
        form=forms.NoteForm,
        serializer=serializers.NoteSerializer,
        order=115,
        refused=_("只能对已移交、在接收单位办理且已超期的案件催办。"),
    ),
    Action(
        "reopen",
        _("重新调解"),
        who=by_reviewer,
        when=fsm("reopen"),
        run=workflow.reopen_referral,
        form=forms.ReasonForm,
        serializer=serializers.ReasonSerializer,
        order=120,
    ),
)


def extension() -> Extension:
    """What the referrals app itself puts into the registry (``ReferralsConfig.ready``)."""
    return Extension(
        name="referrals",
        actions=ACTIONS,
        checks={"submit": [workflow.missing_for_submit]},
        sweeps={
            "deadlines": reminders.sweep_deadlines,
            "followup": reminders.sweep_followups,
            # Not a reminder, but the minute-by-minute loop is where a crashed roster import is noticed.
            "stalled_roster_imports": reap_stalled_imports,
            # Not a reminder either: the deadline days begun since are folded into each cell's total.
            "clock_cells": rollup.fold_clock,
        },
        rollups=(rollup.REFERRALS, rollup.CLOCK, rollup.DURATION_BUCKETS),
    )


def perform_posted(user, pk: int, name: str, data: object) -> Referral:
    """An action posted to a resource of its own (``/leader/``, ``/assignment/``): 404 when the
    referral is not the user's to see, 403 not theirs to do, 400 a bad body (the action's
    serializer), 409 not possible now. The referral as it was found (refresh it to read the change)."""
    action = registry.action(name)
    referral = permissions.get_referral_for_user(user, pk)
    permissions.require(user, referral, name)
    assert action.serializer is not None, name
    body = action.serializer(data=data)
    body.is_valid(raise_exception=True)
    perform(action, referral, by=user, payload=body.validated_data)
    return referral


def perform(action: Action, referral: Referral, *, by, payload: dict) -> object:
    """Run an action for a page or the API: its workflow function, run once more if the database
    chose it as a deadlock's victim (``core/db.py``)."""
    return retry_once_on_deadlock(action.run)(referral, by=by, **payload)
