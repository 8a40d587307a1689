"""A party's own pages behind their personal link: no account, a code sent to their phone first.

What a party sees is their own case in plain words: the committee and mediators who handle it, the
sessions held, the deadline that concerns them, the outcome. Of the other party only the name; of
the staff only the mediators. They can give their consent to mediation (where none is recorded) and,
after the mediation ended, rate it. Every opening and every action is in the read audit
(``core.models.AccessLog``, action ``party_link``).
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.audit import log_access
from core.errors import DomainError
from core.models import AccessLog
from core.net import client_address
from lib import uploads
from mediation.models import Agreement, Attachment, DossierItem, FollowUp, MediationSession, Termination
from mediation.workflow import rate_by_party
from messaging import links
from messaging.models import PartyLink
from referrals.intake import consent_online
from referrals.models import State
from townships.validators import mask_phone

SESSION_KEY = "party_links"  # {link id: when the code was entered (ISO)}
VERIFIED_FOR = datetime.timedelta(hours=12)

# What each state means to a party, in their words (the staff's labels name the office's steps).
PLAIN = {
    State.DRAFT: gettext_lazy("信访部门正在登记您的纠纷，准备移交人民调解。"),
    State.SUBMITTED: gettext_lazy("您的纠纷已移交调解委员会，等待受理。"),
    State.MEDIATING: gettext_lazy("调解委员会已受理，正在调解。"),
    State.DECLINED: gettext_lazy("调解委员会未受理，信访部门正在另行处理。"),
    State.SUCCEEDED: gettext_lazy("调解已结束，双方达成调解协议。"),
    State.FAILED: gettext_lazy("调解已结束，未能达成协议。"),
    State.CLOSED: gettext_lazy("本案已办结。"),
}


def _link(token: str) -> PartyLink:
    link = links.resolve(token)
    if link is None:
        raise Http404  # bad, expired or revoked: the same answer
    return link


def _verified(request: HttpRequest, link: PartyLink) -> bool:
    at = request.session.get(SESSION_KEY, {}).get(str(link.pk))
    return bool(at) and timezone.now() - datetime.datetime.fromisoformat(at) < VERIFIED_FOR


def _audit(request: HttpRequest, link: PartyLink, what: str, **detail) -> None:
    log_access(
        request,
        AccessLog.Action.PARTY_LINK,
        referral=link.referral,
        detail={"step": what, "party": link.party_id, "link": link.pk, **detail},
    )


@login_not_required
@require_GET
def case(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(token)
    if not _verified(request, link):
        _audit(request, link, "open")
        return render(request, "portal/verify.html", {"token": token, "to": mask_phone(link.party.phone)})
    _audit(request, link, "view")
    return render(request, "portal/case.html", {"token": token, **_case(link)})


def _case(link: PartyLink) -> dict:
    referral, party = link.referral, link.party
    concluded = referral.concluded_at is not None
    rated = (
        concluded
        and FollowUp.objects.filter(
            referral=referral,
            party=party,
            source=FollowUp.Source.PARTY,
            visited_on__gte=timezone.localtime(referral.concluded_at).date(),
        ).exists()
    )
    agreement = Agreement.objects.filter(referral=referral, round=referral.round).first() if concluded else None
    mediators = []
    if referral.state != State.DRAFT:
        lead = referral.lead_mediator_id
        mediators = sorted(referral.mediators.all(), key=lambda m: (m.pk != lead, m.pk))
    return {
        "referral": referral,
        "party": party,
        "plain": PLAIN.get(referral.state, ""),
        "others": [p.name for p in referral.parties.all() if p.pk != party.pk],
        "mediators": mediators,
        "sessions": MediationSession.objects.filter(referral=referral, round=referral.round).order_by("held_on")
        if referral.state != State.DRAFT
        else [],
        "mediation_due": referral.due_at if referral.deadline_kind == "mediate" else None,
        "agreement": agreement,
        "documents": _outcome_documents(referral, agreement) if concluded else [],
        "termination": Termination.objects.filter(referral=referral, round=referral.round).first()
        if concluded
        else None,
        "may_consent": not party.has_consent and referral.state in (State.DRAFT, State.SUBMITTED, State.MEDIATING),
        "may_rate": concluded and not rated,
        "rated": rated,
        "satisfaction": FollowUp.Satisfaction.choices,
    }


def _outcome_documents(referral, agreement: Agreement | None):
    """The signed paper of this round's outcome that the committee filed in the dossier: the 调解协议书
    for an agreement, the 终止调解告知书 for a termination. The party signed or received it; nothing
    else of the dossier (records, other parties' identity papers) is theirs to download."""
    kind = DossierItem.AGREEMENT if agreement is not None else DossierItem.TERMINATION_NOTICE
    found = Attachment.objects.filter(referral=referral, kind=kind)
    if referral.accepted_at is not None:  # an earlier round's paper is not this outcome's
        found = found.filter(uploaded_at__gte=referral.accepted_at)
    return list(found.order_by("-uploaded_at"))


@login_not_required
@require_GET
def document(request: HttpRequest, token: str, aid: int) -> HttpResponse:
    link = _verified_link(request, token)
    if link.referral.concluded_at is None:
        raise Http404
    agreement = Agreement.objects.filter(referral=link.referral, round=link.referral.round).first()
    attachment = next((a for a in _outcome_documents(link.referral, agreement) if a.pk == aid), None)
    if attachment is None:
        raise Http404
    _audit(request, link, "document", attachment=attachment.pk)
    return uploads.download(attachment.file, name=attachment.original_name, content_type=attachment.content_type)


@login_not_required
@require_POST
def send_code(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(token)
    try:
        links.request_code(link, ip_address=client_address(request))
    except links.TooSoon as refused:
        _audit(request, link, "code_refused")
        messages.error(request, refused.message)
    else:
        _audit(request, link, "code_sent")
        messages.success(request, _("验证码已发送至 %s，5分钟内有效。") % mask_phone(link.party.phone))
    return redirect("portal:case", token=token)


@login_not_required
@require_POST
def verify(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(token)
    if not links.check_code(link, request.POST.get("code", "")):
        _audit(request, link, "code_wrong")
        messages.error(request, _("验证码不正确或已失效，请重新输入或重新获取。"))
        return redirect("portal:case", token=token)
    # A new session key once the code is right: a session id planted before cannot ride on it.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {**request.session.get(SESSION_KEY, {}), str(link.pk): timezone.now().isoformat()}
    _audit(request, link, "code_right")
    return redirect("portal:case", token=token)


def _verified_link(request: HttpRequest, token: str) -> PartyLink:
    link = _link(token)
    if not _verified(request, link):
        raise Http404
    return link


@login_not_required
@require_POST
def consent(request: HttpRequest, token: str) -> HttpResponse:
    link = _verified_link(request, token)
    if request.POST.get("agree") != "yes":
        messages.error(request, _("请勾选“我同意通过人民调解解决本纠纷”。"))
        return redirect("portal:case", token=token)
    if consent_online(link.party):
        _audit(request, link, "consent")
        messages.success(request, _("已记录您同意人民调解。"))
    else:
        messages.info(request, _("您同意调解的意见此前已经记录。"))
    return redirect("portal:case", token=token)


@login_not_required
@require_POST
def rating(request: HttpRequest, token: str) -> HttpResponse:
    link = _verified_link(request, token)
    try:
        rate_by_party(link.party, satisfaction=request.POST.get("satisfaction", ""), note=request.POST.get("note", ""))
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        _audit(request, link, "rating", satisfaction=request.POST.get("satisfaction"))
        messages.success(request, _("感谢您的评价。"))
    return redirect("portal:case", token=token)
