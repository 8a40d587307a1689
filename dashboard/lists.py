"""Lists of referrals on the dashboards: what needs attention, what waits for whom."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from referrals import stats
from referrals.models import State
from referrals.stats import FIGURES, Item, ItemList, Scope

LIST_LIMIT = 8
QUEUE_LIMIT = 15

# --- Lists -----------------------------------------------------------------------------------------


def _excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def referral_items(scope: Scope, keys: tuple[str, ...], now: datetime.datetime, *, limit: int) -> ItemList:
    """The referrals behind figures ``keys``, most urgent first (earliest deadline, then newest)."""
    qs = scope.referrals().filter(stats.figure_conditions(keys, now))
    today = timezone.localdate(now)
    items = []
    for r in qs.select_related("target").order_by(F("due_at").asc(nulls_last=True), "-id")[:limit]:
        status = r.deadline_status(now)
        meta = [r.target.name if r.target else ""]
        if r.due_on:
            late = (today - r.due_on).days
            meta.insert(0, r.get_deadline_kind_display() + " " + r.due_on.isoformat())
            if status == "overdue" and late > 0:
                meta.insert(1, _("超期 %d 天") % late)
        if r.ping_pong:
            meta.append(_("已退回 %d 次") % r.returns_count)
        items.append(
            Item(
                referral_id=r.pk,
                number=r.number,
                text=f"{State(r.state).label} · {_excerpt(r.summary)}",
                meta=" · ".join(m for m in meta if m),
                tone={"overdue": "bad", "due_soon": "warn"}.get(status or "", ""),
            )
        )
    return ItemList(keys, qs.count(), items)


@dataclass
class Listing:
    title: str
    title_attr: str
    href: str
    count: int
    items: list[Item]
    tone: str = ""
    empty: str = ""


def listing(scope: Scope, found: ItemList, *, title: str = "", tone: str = "", empty: str = "") -> Listing:
    figure = FIGURES[found.keys[-1]]
    return Listing(
        title=title or str(figure.label),
        title_attr=str(figure.definition),
        href=stats.list_url(scope, *found.keys),
        count=found.count,
        items=found.items,
        tone=tone if found.count else "",
        empty=empty or _("没有。"),
    )


def attention(scope: Scope, now: datetime.datetime) -> list[Listing]:
    out = [
        listing(scope, referral_items(scope, ("overdue",), now, limit=LIST_LIMIT), tone="bad"),
        listing(
            scope,
            referral_items(scope, ("open", "ping_pong"), now, limit=LIST_LIMIT),
            title=_("反复退回（在办）"),
            tone="bad",
        ),
    ]
    for name, tone in (("supervision_overdue", "bad"), ("followup_overdue", "bad"), ("dissatisfied", "warn")):
        lister = stats.source_lister(name)
        if lister is not None:
            out.append(listing(scope, lister(scope.referrals(), now, LIST_LIMIT), tone=tone))
    return out
