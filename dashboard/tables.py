"""The townships (and counties) table of the supervisor's dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy

from referrals import stats
from referrals.stats import FIGURES, Scope

# --- Tables ------------------------------------------------------------------------------------

# Overdue is split by whose clock runs: a committee's row counts only its own (受理、调解) clocks,
# never the referrals it concluded that wait for the petition office's 审核办结; those show, per
# county, in their own column (the county table's rows hold the petition offices too).
TABLE_COLUMNS = ("total", "open", "handler_overdue", "concluded", "succeeded", "success_rate")
COUNTY_COLUMNS = ("total", "open", "handler_overdue", "review_overdue", "concluded", "succeeded", "success_rate")
# Short headers keep six columns and the township name within a phone's width.
SHORT_LABELS = {
    "total": gettext_lazy("案件数"),
    "open": gettext_lazy("在办"),
    "handler_overdue": gettext_lazy("超期"),
    "review_overdue": gettext_lazy("审核超期"),
    "concluded": gettext_lazy("结束"),
    "succeeded": gettext_lazy("成功"),
    "success_rate": gettext_lazy("成功率"),
}
SORTS = {"code", "total", "handler_overdue", "success_rate"}
DEFAULT_SORT = "-handler_overdue"


@dataclass(frozen=True)
class Cell:
    key: str
    value: str
    href: str
    tone: str = ""


def table_rows(scope: Scope, rows: Sequence[dict[str, Any]], *, county_table: bool = False) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        keys = stats.region_link_keys(row, county_table=county_table)
        cells = [
            Cell(
                key=key,
                value=stats.display(key, row[key]),
                href=stats.list_url(scope, *keys, FIGURES[key].link or key, region=row["code"]),
                tone=("bad" if key.endswith("overdue") else "") if row[key] else ("zero" if row[key] == 0 else ""),
            )
            for key in (COUNTY_COLUMNS if county_table else TABLE_COLUMNS)
        ]
        out.append({"code": row["code"], "name": row["name"], "county": row.get("county_name", ""), "cells": cells})
    return out


def columns(keys: Sequence[str], links: dict[str, dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """A table's headers: short label, the figure's definition (as a tooltip), the sort link."""
    return [
        {"key": k, "label": SHORT_LABELS[k], "definition": FIGURES[k].definition, "sort": (links or {}).get(k)}
        for k in keys
    ]


def sort_rows(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """Sort by a column (``-`` first = descending); rows without a value go last either way."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "code":
        return sorted(rows, key=lambda r: r["code"], reverse=descending)
    present = [r for r in rows if r[key] is not None]
    missing = [r for r in rows if r[key] is None]
    present.sort(key=lambda r: r["code"])
    present.sort(key=lambda r: r[key], reverse=descending)
    return present + missing


def sort_links(base: dict[str, str], current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL that sorts by it (toggling direction) and its arrow."""
    links = {}
    for key in SORTS:
        active = current.lstrip("-") == key
        descending = current.startswith("-")
        # A first click shows the worst (most overdue) or best (highest rate) first.
        target = (key if descending else f"-{key}") if active else (key if key == "code" else f"-{key}")
        arrow = ("↓" if descending else "↑") if active else ""
        links[key] = {"url": "?" + urlencode({**base, "sort": target}), "arrow": arrow, "active": active}
    return links
