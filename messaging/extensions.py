"""What messaging adds to referrals: after-step hooks that write the parties' messages, the sweep
that sends what is due, and the rule of who may send a message again.

The hooks run inside the step (``referrals/steps.py``), after its body: the referral's new target,
state and mediators are those of the step.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from messaging import outbox, pages, sender
from messaging.models import Message
from referrals.models import OPEN_STATES, Referral
from referrals.permissions import at_committee
from referrals.registry import RULE, Action, Extension, Panel


def _to_parties(template: str, *, only_at_committee: bool = False) -> Callable[[Referral], None]:
    def hook(referral: Referral) -> None:
        # Sent to a justice bureau or a governance centre, the referral has no committee yet: the
        # parties hear of it when it is dispatched to one.
        if only_at_committee and not at_committee(referral):
            return
        outbox.queue(referral, template)

    hook.__name__ = f"message_{template}"
    return hook


MADE = _to_parties(Message.Template.REFERRAL_MADE, only_at_committee=True)

ACTIONS = (
    Action(
        "send_party_link",
        _("发送当事人个人链接"),
        # The office that registers the case (a draft's missing consent), or the committee handling it.
        who=lambda a, r: a.origin_officer or a.target_handler,
        when=lambda r: r.state in OPEN_STATES,
        kind=RULE,
    ),
    Action(
        "resend_message",
        _("重新发送短信"),
        # The office that referred the case, or the committee handling it now.
        who=lambda a, r: a.origin_officer or a.origin_reviewer or a.target_handler,
        when=lambda r: True,
        kind=RULE,
    ),
)


def extension() -> Extension:
    return Extension(
        name="messaging",
        actions=ACTIONS,
        after={
            "submit": [MADE],
            "redirect": [MADE],
            "dispatch": [MADE],
            "accept": [_to_parties(Message.Template.ACCEPTED)],
            "succeed": [_to_parties(Message.Template.AGREEMENT_REACHED)],
            "fail": [_to_parties(Message.Template.MEDIATION_TERMINATED)],
        },
        sweeps={"sms": sender.sweep},
        panels=[Panel("messages", "messaging/panel_messages.html", pages.panel, order=90)],
        events={"party_consent": _("当事人在线同意调解"), "party_rating": _("当事人在线评价")},
    )
