"""How a referral is named in the JSON of another thing's list: a referral's links, a 类案 group's
members, a leader's cases (``serializers.ReferralItemOut`` is its schema)."""

from __future__ import annotations

from typing import Any

from referrals.models import Referral


def referral_item(r: Referral) -> dict[str, Any]:
    return {"id": r.pk, "number": r.number, "state": r.state, "state_label": r.get_state_display()}
