"""``{% dossier_tasks org %}``: the committee's "卷宗待补充" on its home page, each with its upload."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone

from mediation.dossier import pending_for
from mediation.models import DossierItem
from referrals import permissions
from referrals.models import CONCLUDED_STATES, State
from townships.models import Organisation

register = template.Library()

# The concluded referrals looked at (oldest conclusion first: their review clock runs out first), and
# how many of those lacking something are listed. Fixed, so the home page costs the same queries.
CANDIDATES = 50
LIMIT = 15


@register.inclusion_tag("mediation/_home_dossier_tasks.html", takes_context=True)
def dossier_tasks(context, org) -> dict:
    request = context.get("request")
    if request is None or not isinstance(org, Organisation) or org.kind != Organisation.Kind.MEDIATION_COMMITTEE:
        return {"tasks": []}
    user = request.user
    if org.pk not in permissions.grants_of(user).orgs("handle_for"):
        return {"tasks": []}
    concluded = list(
        permissions.referrals_visible_to(user)
        .filter(target_id=org.pk, state__in=CONCLUDED_STATES)
        .order_by("concluded_at", "id")[:CANDIDATES]
    )
    today = timezone.localdate()
    tasks = [
        {
            "referral": p.referral,
            "state_label": State(p.referral.state).label,
            "labels": p.labels,
            "choices": [(i, DossierItem(i).label) for i in p.items],
            "request": p.request,
            "overdue": p.request.overdue(today) if p.request else False,
            "url": reverse("referrals:action", args=[p.referral.pk, "add_attachment"]),
        }
        for p in pending_for(concluded)
    ]
    return {"tasks": tasks[:LIMIT], "count": len(tasks), "csrf_token": context.get("csrf_token")}
