"""Linked referrals: two referrals about the same dispute (同一纠纷: petitioned twice, or by both sides)
or related ones (相关纠纷: one housing estate, one land requisition), each shown on the other.

- **Who links and unlinks**: those with a part in the referral the link is made from — its origin
  office's officers and reviewers, or its handling committee — who may also see the other one.
- **Who sees a link**: whoever sees both referrals. A link never names, to someone who may not open
  it, the referral at its other end (the lesson of the repeat check, docs/security.md).
- **A link** is stored once per pair (``ReferralLink``, the lower id first), with its kind; making it
  and undoing it are steps of the referral it is made from (timeline ``link_referral`` /
  ``unlink_referral``). The timeline, which everyone who sees the referral reads, names only the
  kind, never the other referral; the row — kept when the link is undone, with who and when — is
  the record of which one it was.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import permissions
from referrals.errors import InvalidInput
from referrals.models import Referral, ReferralLink
from referrals.refs import referral_item
from referrals.registry import RECORD, Action, Extension, Panel, Section
from referrals.steps import step

Kind = ReferralLink.Kind


def may_link(actor, referral: Referral) -> bool:
    return actor.origin_officer or actor.origin_reviewer or actor.target_handler


def _pair(a: Referral, b: Referral) -> tuple[int, int]:
    return (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)


def _between(a: Referral, b: Referral) -> Q:
    low, high = _pair(a, b)
    return Q(low_id=low, high_id=high)


def link_referral(referral: Referral, *, by, other: Referral, kind: str) -> ReferralLink:
    """Link ``other`` to ``referral`` (关联案件). ``other`` must be one the user may see (the caller
    resolves it so: 404 otherwise). 400 for itself, an unknown kind or a pair already linked."""
    if kind not in Kind.values:
        raise InvalidInput({"kind": [_("请选择关联类型：同一纠纷或相关纠纷。")]})
    if other.pk == referral.pk:
        raise InvalidInput({"other": [_("不能与本案自身关联。")]})
    low, high = _pair(referral, other)
    try:
        with step(referral, by=by, action="link_referral") as s:
            with transaction.atomic():
                link = ReferralLink.objects.create(low_id=low, high_id=high, kind=kind, created_by=by)
            s.note = _("关联了一件%s案件") % Kind(kind).label
            s.data = {"link": link.pk, "kind": kind}
    except IntegrityError:
        raise InvalidInput({"other": [_("本案已与 %s 关联。") % other.number]}) from None
    return link


def unlink_referral(referral: Referral, *, by, other: Referral) -> None:
    """Undo a link (取消关联); 400 if the two are not linked."""
    with step(referral, by=by, action="unlink_referral") as s:
        link = ReferralLink.objects.filter(_between(referral, other), removed_at__isnull=True).first()
        if link is None:
            raise InvalidInput({"other": [_("本案未与 %s 关联。") % other.number]})
        link.removed_at, link.removed_by = s.now, by
        link.save(update_fields=["removed_at", "removed_by"])
        s.note = _("取消了一件%s案件的关联") % Kind(link.kind).label
        s.data = {"link": link.pk, "kind": link.kind}


def visible_links(referral: Referral, user) -> list[tuple[ReferralLink, Referral]]:
    """The referral's links whose other end the user may see, with that other referral."""
    links = list(
        ReferralLink.objects.filter(Q(low=referral) | Q(high=referral), removed_at__isnull=True).order_by(
            "created_at", "pk"
        )
    )
    others = {link.high_id if link.low_id == referral.pk else link.low_id for link in links}
    seen = {r.pk: r for r in permissions.referrals_visible_to(user).filter(pk__in=others)}
    found = []
    for link in links:
        other = seen.get(link.high_id if link.low_id == referral.pk else link.low_id)
        if other is not None:
            found.append((link, other))
    return found


def links_json(referral: Referral, user, full: bool = False) -> list[dict[str, Any]]:
    return [
        {**referral_item(other), "kind": link.kind, "kind_label": str(Kind(link.kind).label)}
        for link, other in visible_links(referral, user)
    ]


def links_panel(request, referral: Referral) -> dict | None:
    from referrals.forms import LinkForm

    found = visible_links(referral, request.user)
    can_link = permissions.can(request.user, referral, "link_referral")
    if not found and not can_link:
        return None
    bound = getattr(request, "bound_forms", {})
    return {
        "links": found,
        "form": (bound.get("link_referral") or LinkForm(referral=referral, user=request.user, auto_id="id_link_%s"))
        if can_link
        else None,
        "url": reverse("referrals:action", args=[referral.pk, "link_referral"]),
        "unlink_url": reverse("referrals:action", args=[referral.pk, "unlink_referral"]),
        "can_unlink": permissions.can(request.user, referral, "unlink_referral"),
        "open": "link_referral" in bound,
    }


def extension() -> Extension:
    from referrals.forms import LinkForm, UnlinkForm
    from referrals.serializers import LinkSerializer, UnlinkSerializer

    return Extension(
        name="links",
        actions=(
            Action(
                "link_referral",
                gettext_lazy("关联案件"),
                who=may_link,
                when=lambda r: True,
                kind=RECORD,
                run=link_referral,
                form=LinkForm,
                serializer=LinkSerializer,
                order=63,
                done=gettext_lazy("已关联。"),
            ),
            Action(
                "unlink_referral",
                gettext_lazy("取消关联"),
                who=may_link,
                when=lambda r: True,
                kind=RECORD,
                run=unlink_referral,
                form=UnlinkForm,
                serializer=UnlinkSerializer,
                order=64,
                done=gettext_lazy("已取消关联。"),
            ),
        ),
        sections=(Section("links", (), links_json),),
        panels=(Panel("links", "referrals/panel_links.html", links_panel, order=7),),
    )
