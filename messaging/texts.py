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
    Message.Template.PARTY_LINK: _("您的纠纷(编号%(number)s)可通过个人链接查看进度、确认同意调解和评价调解工作："),
    Message.Template.ACCESS_CODE: _(
        "验证码%(code)s，用于查看纠纷(编号%(number)s)，%(minutes)s分钟内有效。请勿将验证码告诉他人。"
    ),
}
# After the text of a step's message (and the link message), the party's own link.
LINK = _("进度查询：%(url)s")
# What a code looks like once sent: staff see that a code went out, never which.
CODE_HIDDEN = "******"


def mediator_names(referral: Referral) -> str:
    """The lead mediator first, then the others (names only)."""
    people = sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.pk))
    return "、".join(m.name for m in people)


def render(template: str, referral: Referral, *, url: str = "", code: str = "", minutes: int = 0) -> str:
    values = {
        "number": referral.number,
        "committee": referral.target.name if referral.target else "",
        "mediators": "",
        "code": code,
        "minutes": minutes,
    }
    if template == Message.Template.ACCEPTED:
        values["mediators"] = mediator_names(referral) or (
            referral.lead_mediator.name if referral.lead_mediator else ""
        )
    with translation.override(settings.SMS_LANGUAGE):
        text = str(TEXTS[Message.Template(template)]) % values
        return text + str(LINK) % {"url": url} if url else text
