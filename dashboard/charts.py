"""The month trend and the category chart, as inline SVG drawn here (no chart library, no CDN)."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from referrals import stats
from referrals.stats import FIGURES, Scope

# --- Charts (inline SVG, drawn here) -------------------------------------------------------------


def nice_top(value: float, ticks: int = 4) -> int:
    """A round axis maximum ≥ value that divides into ``ticks`` whole steps."""
    if value <= ticks:
        return ticks
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= raw)
    step = math.ceil(step)
    return int(step * ticks)


MONTH_SERIES = (("total", "bar-received"), ("succeeded", "bar-succeeded"))


def month_chart(scope: Scope, rows: Sequence[dict[str, Any]], now: datetime.datetime) -> dict[str, Any]:
    """Twelve months (or the period's, if shorter) of referrals received and mediated successfully."""
    today = timezone.localdate(now)
    last = min(scope.date_to or today, today).replace(day=1)
    first = (last - datetime.timedelta(days=334)).replace(day=1)
    if scope.date_from and scope.date_from.replace(day=1) > first:
        first = scope.date_from.replace(day=1)
    by_month = {r["month"]: r for r in rows}
    months = stats.months(first, last) if first <= last else []
    # A narrow canvas: on a phone it is drawn near 1:1, so the labels stay legible.
    width, height, left, right, top, bottom = 360, 200, 30, 4, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([by_month.get(m.strftime("%Y-%m"), {}).get(k, 0) for m in months for k, _c in MONTH_SERIES] or [0])
    ymax = nice_top(peak)
    group_w = plot_w / max(len(months), 1)
    bar_w = group_w * 0.36
    groups = []
    for i, month in enumerate(months):
        row = by_month.get(month.strftime("%Y-%m"), {})
        x0 = left + i * group_w + (group_w - 2 * bar_w) / 2
        bars = []
        for j, (key, css) in enumerate(MONTH_SERIES):
            value = row.get(key, 0)
            h = plot_h * value / ymax
            bars.append(
                {
                    "x": round(x0 + j * bar_w, 1),
                    "y": round(top + plot_h - h, 1),
                    "w": round(bar_w - 1, 1),
                    "h": round(h, 1),
                    "css": css,
                    "value": value,
                    "label": FIGURES[key].label,
                }
            )
        period = {
            "from": max(month, scope.date_from or month).isoformat(),
            "to": min(stats.month_end(month), scope.date_to or stats.month_end(month)).isoformat(),
        }
        groups.append(
            {
                "month": month,
                "label": _("%d月") % month.month,
                # The year under January, and under the first month unless January follows at once.
                "year": month.year if month.month == 1 or (i == 0 and month.month < 12) else "",
                "x": round(left + i * group_w, 1),
                "w": round(group_w, 1),
                "cx": round(left + (i + 0.5) * group_w, 1),
                "bars": bars,
                "href": stats.list_url(scope, "total", **period),
                "title": _("%(month)s：受理案件 %(total)s，调解成功 %(succeeded)s")
                % {
                    "month": month.strftime("%Y-%m"),
                    "total": row.get("total", 0),
                    "succeeded": row.get("succeeded", 0),
                },
            }
        )
    grid = [{"y": round(top + plot_h - plot_h * k / 4, 1), "label": int(ymax * k / 4)} for k in range(5)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "baseline": top + plot_h,
        "label_y": top + plot_h + 14,
        "year_y": top + plot_h + 29,
        "groups": groups,
        "grid": grid,
        "legend": [(FIGURES[k].label, css) for k, css in MONTH_SERIES],
    }


def category_chart(scope: Scope, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars: referrals received by dispute category, largest first."""
    present = sorted((r for r in rows if r["total"]), key=lambda r: (-r["total"], r["code"]))
    width, label_w, value_w, row_h = 360, 92, 34, 26
    peak = max([r["total"] for r in present] or [1])
    bar_space = width - label_w - value_w
    bars = []
    for i, row in enumerate(present):
        w = max(bar_space * row["total"] / peak, 2)
        bars.append(
            {
                "y": i * row_h,
                "bar_y": i * row_h + 4,
                "text_y": i * row_h + row_h / 2 + 4,
                "label": row["name"],
                "value": row["total"],
                "w": round(w, 1),
                "value_x": round(label_w + w + 4, 1),
                "href": stats.list_url(scope, "total", category=row["code"]),
                "title": _("%(name)s：受理案件 %(total)s，调解成功 %(succeeded)s，成功率 %(rate)s")
                % {
                    "name": row["name"],
                    "total": row["total"],
                    "succeeded": row["succeeded"],
                    "rate": stats.display("success_rate", row["success_rate"]),
                },
            }
        )
    return {
        "width": width,
        "height": max(len(bars) * row_h, row_h),
        "label_w": label_w,
        "row_h": row_h,
        "bar_h": row_h - 8,
        "bars": bars,
    }
