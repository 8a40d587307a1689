"""The KPI tiles of the dashboards: a number, what it means, and the list behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from referrals import stats
from referrals.models import Tier
from referrals.stats import FIGURES, Scope

# --- Tiles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    raw: Any
    title: str
    href: str
    tone: str = ""
    sub: str = ""
    # A rate's parts, each a link to its list: (figure key, label, value, href).
    parts: tuple[tuple[str, str, Any, str], ...] = ()


def _late(value) -> str:
    """Something is late: red; nothing is: green."""
    return "bad" if value else "good"


def _timely(value) -> str:
    """A timeliness rate below 100% means some referral was late."""
    if value is None:
        return ""
    return "good" if value >= 1 else "warn"


TONES: dict[str, Callable[[Any], str]] = {
    "overdue": _late,
    "ping_pong": _late,
    "supervision_overdue": _late,
    "due_soon": lambda v: "warn" if v else "",
    "dissatisfied": lambda v: "warn" if v else "",
    "timely_acceptance_rate": _timely,
    "on_time_conclusion_rate": _timely,
    "closed_on_time_rate": _timely,
    "petition_on_time_rate": _timely,
}


def _parts(scope: Scope, values: dict[str, Any], key: str) -> tuple[tuple[str, str, Any, str], ...]:
    """A timeliness rate's numerator, denominator and late ones, each linked to its referrals."""
    figure = FIGURES[key]
    if not (figure.ratio and figure.late):
        return ()
    keys = (*figure.ratio, figure.late)
    late = values[figure.ratio[1]] - values[figure.ratio[0]]
    found = {**values, figure.late: late}
    return tuple((k, str(FIGURES[k].label), found[k], stats.list_url(scope, k)) for k in keys)


def make_tile(scope: Scope, values: dict[str, Any], key: str, *, sub: str = "", label: str = "") -> Tile:
    figure = FIGURES[key]
    value = values.get(key)
    return Tile(
        parts=_parts(scope, values, key),
        key=key,
        label=label or str(figure.label),
        value=stats.display(key, value),
        raw=value,
        title=str(figure.definition),
        href=stats.list_url(scope, key),
        tone=TONES.get(key, lambda v: "")(value),
        sub=sub,
    )


def _pair(values: dict[str, Any], numerator: str, denominator: str) -> str:
    return f"{FIGURES[numerator].label} {values[numerator]} / {FIGURES[denominator].label} {values[denominator]}"


def supervisor_tiles(scope: Scope, values: dict[str, Any]) -> list[tuple[str, list[Tile]]]:
    def t(key: str, **kwargs) -> Tile | None:
        return make_tile(scope, values, key, **kwargs) if key in values else None

    def median(key: str) -> str:
        return _("中位数 %s") % stats.display(key, values.get(key))

    groups = [
        (
            _("办理进度"),
            [
                t("total"),
                t("open"),
                t("state_submitted", label=_("待受理")),
                t("state_mediating"),
                t("overdue"),
                t("due_soon"),
                t("ping_pong"),
                t("supervision_overdue"),
            ],
        ),
        (
            _("办理成效"),
            [
                t("success_rate", sub=_pair(values, "succeeded", "concluded")),
                t("timely_acceptance_rate"),
                t("on_time_conclusion_rate"),
                t("closed_on_time_rate"),
                t("petition_on_time_rate"),
                t("avg_days_to_accept", sub=median("median_days_to_accept")),
                t("avg_days_to_conclude", sub=median("median_days_to_conclude")),
            ],
        ),
    ]
    # 化解 by tier (升级调解): shown once a dispute was escalated or mediated above the township.
    tiers = [tier for tier in Tier.values if tier == Tier.TOWNSHIP or values.get(f"{tier}_concluded")]
    if values.get("escalated") or len(tiers) > 1:
        groups.append(
            (
                _("分层化解"),
                [
                    t("escalated"),
                    *(
                        t(f"{tier}_success_rate", sub=_pair(values, f"{tier}_succeeded", f"{tier}_concluded"))
                        for tier in tiers
                    ),
                ],
            )
        )
    if "agreements" in values:
        groups.append(
            (
                _("调解协议与回访"),
                [
                    t("agreements", sub=_pair(values, "agreements_written", "agreements_oral")),
                    t("amount_involved"),
                    t("agreements_performed"),
                    t("judicially_confirmed"),
                    t("satisfaction_rate", sub=_pair(values, "satisfied", "followups_visited")),
                    t("party_satisfaction_rate", sub=_pair(values, "party_satisfied", "rated_by_party")),
                    t("dissatisfied"),
                ],
            )
        )
    return [(title, [tile for tile in tiles if tile]) for title, tiles in groups]
