"""What each message says: short, in Chinese, naming the case number and the committee only.

No personal data: neither the parties' names nor the dispute; the case number lets a party ask the
committee or the petition office about it. Accepted adds the mediators' names (they are the people
the parties will meet). The text is written in the site's language (``LANGUAGE_CODE``, Chinese)
whatever language the staff member who took the step reads the pages in.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from messaging.models import Message
from referrals.models import Referral

TEXTS = {
    Message.Template.REFERRAL_MADE: _("您的纠纷(编号%(number)s)已移交%(committee)s进行人民调解，调解员将与您联系。"),
    Message.Template.ACCEPTED: _("您的纠纷(编号%(number)s)已由%(committee)s受理，调解员：%(mediators)s。"),
    Message.Template.AGREEMENT_REACHED: _("您的纠纷(编号%(number)s)经%(committee)s调解，已达成调解协议。"),
    Message.Template.MEDIATION_TERMINATED: _(
        "您的纠纷(编号%(number)s)%(committee)s已终止调解，您可依法通过其他途径解决。"
    ),
}


def mediator_names(referral: Referral) -> str:
    """The lead mediator first, then the others (names only)."""
    people = sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.pk))
    return "、".join(m.name for m in people)


def render(template: str, referral: Referral) -> str:
    values = {
        "number": referral.number,
        "committee": referral.target.name if referral.target else "",
        "mediators": "",
    }
    if template == Message.Template.ACCEPTED:
        values["mediators"] = mediator_names(referral) or (
            referral.lead_mediator.name if referral.lead_mediator else ""
        )
    with translation.override(settings.SMS_LANGUAGE):
        return str(TEXTS[Message.Template(template)]) % values
