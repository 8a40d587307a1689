"""What each message says: short, in Chinese, naming the case number and the committee only.

No personal data: neither the parties' names nor the dispute; the case number lets a party ask the
committee or the petition office about it. Accepted adds the mediators' names (they are the people
the parties will meet). The text is written in the site's language (``LANGUAGE_CODE``, Chinese)
whatever language the staff member who took the step reads the pages in.

An administrator may reword any of them (``TextTemplate``, in the admin); ``check`` keeps the
rewording to the same placeholders, so that no text can ask for more than these.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging.models import Message, TextTemplate
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
# Which placeholders each text may use, and which it must: the case number always (the party's only
# handle on the case), the code in the code message.
ALLOWED = {
    template: {"number", "committee"} | extra
    for template, extra in {
        Message.Template.REFERRAL_MADE: set(),
        Message.Template.ACCEPTED: {"mediators"},
        Message.Template.AGREEMENT_REACHED: set(),
        Message.Template.MEDIATION_TERMINATED: set(),
        Message.Template.PARTY_LINK: set(),
        Message.Template.ACCESS_CODE: {"code", "minutes"},
    }.items()
}
REQUIRED = {template: {"number"} for template in ALLOWED} | {Message.Template.ACCESS_CODE: {"number", "code"}}
# Seventy Chinese characters fill one text; the link and the signature the gateway adds come after.
LONGEST = 70
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# After the text of a step's message (and the link message), the party's own link.
LINK = _("进度查询：%(url)s")
# What a code looks like once sent: staff see that a code went out, never which.
CODE_HIDDEN = "******"


def mediator_names(referral: Referral) -> str:
    """The lead mediator first, then the others (names only)."""
    people = sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.pk))
    return "、".join(m.name for m in people)


def values(template: str, referral: Referral, *, url: str = "", code: str = "", minutes: int = 0) -> dict[str, str]:
    """What this text's placeholders stand for (and the party's link): the wording is filled from
    them, and a provider whose templates are registered on its platform is sent them as they are
    (``Message.params``, ``messaging/backends.py``). Only the template's own placeholders: a message
    keeps nothing the party does not read in it."""
    known = {
        "number": referral.number,
        "committee": referral.target.name if referral.target else "",
        "code": code,
        "minutes": str(minutes),
    }
    if template == Message.Template.ACCEPTED:
        known["mediators"] = mediator_names(referral) or (referral.lead_mediator.name if referral.lead_mediator else "")
    chosen = {name: known[name] for name in sorted(ALLOWED[template])}
    return chosen | {"url": url} if url else chosen


def render(template: str, params: dict[str, str]) -> str:
    """The text itself: the administrator's wording if there is one, else the default, in Chinese."""
    own = TextTemplate.objects.filter(template=template).values_list("text", flat=True).first()
    with translation.override(settings.SMS_LANGUAGE):
        text = (own or str(TEXTS[Message.Template(template)])) % params
        return text + str(LINK) % {"url": params["url"]} if params.get("url") else text


def check(template: str, text: str) -> None:
    """An administrator's wording: only this text's placeholders, the ones it needs, within one
    text's length; a ``ValidationError`` naming each fault otherwise."""
    faults = []
    used = set(PLACEHOLDER.findall(text))
    if unknown := sorted(used - ALLOWED[template]):
        faults.append(
            gettext("不能使用占位符 %(names)s；本模板可用：%(allowed)s。")
            % {
                "names": "、".join(f"%({n})s" for n in unknown),
                "allowed": "、".join(f"%({n})s" for n in sorted(ALLOWED[template])),
            }
        )
    if missing := sorted(REQUIRED[template] - used):
        faults.append(gettext("缺少占位符 %s。") % "、".join(f"%({n})s" for n in missing))
    if "%" in PLACEHOLDER.sub("", text).replace("%%", ""):
        faults.append(gettext("百分号只能用于占位符，百分号本身请写作 %(escaped)s。") % {"escaped": "%%"})
    if len(PLACEHOLDER.sub("", text)) > LONGEST:
        faults.append(gettext("除占位符外不能超过%d个字。") % LONGEST)
    if faults:
        raise ValidationError(faults)
