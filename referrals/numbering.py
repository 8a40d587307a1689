"""Referral numbers such as JM-2026-000123: per city prefix and year, unique, gaps tolerated."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from referrals.models import NumberCounter
from townships.models import Region


def city_prefix(region: Region) -> str:
    """The letters of the city the region belongs to (JM for Jiangmen)."""
    city_code = region.code[:4]
    if len(region.code) >= 4:
        abbreviation = Region.objects.filter(code=city_code).values_list("abbreviation", flat=True).first()
        if abbreviation:
            return abbreviation
    return settings.FANGDIAO["NUMBER_PREFIX_DEFAULT"]


def next_number(region: Region) -> str:
    """Issue the next number. Must run inside the caller's transaction.

    The counter row is incremented with a single UPDATE, which takes its row lock until commit, so
    two officers registering at once get different numbers; a rolled-back registration leaves a gap.
    """
    year = timezone.localdate().year
    prefix = city_prefix(region)
    key = f"{prefix}-{year}"
    assert transaction.get_connection().in_atomic_block, "next_number needs a transaction"
    if not NumberCounter.objects.filter(key=key).update(value=F("value") + 1):
        NumberCounter.objects.get_or_create(key=key, defaults={"value": 0})
        NumberCounter.objects.filter(key=key).update(value=F("value") + 1)
    value = NumberCounter.objects.get(key=key).value
    return f"{key}-{value:06d}"
