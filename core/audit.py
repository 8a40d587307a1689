"""The read audit: record who saw personal data, downloaded a file or exported a ledger.

Called by views (pages and API) at the moment the data leaves the server; never skipped for
"internal" callers. The entries are append-only (``core.models.AccessLog``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Protocol

from core.models import AccessLog
from core.net import client_address, forwarded_for


class Audited(Protocol):
    """What the audit copies from the case it is about (a referral; the audit knows no app)."""

    pk: int
    number: str
    region_code: str


MAX_IDS = 200


def log_access(
    request, action: str, *, referral: Audited | None = None, region_code: str = "", detail: dict | None = None
) -> AccessLog:
    user = request.user
    return AccessLog.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else "",
        action=action,
        referral_id=referral.pk if referral else None,
        referral_number=referral.number if referral else "",
        region_code=referral.region_code if referral else region_code,
        detail=detail or {},
        # The address the trusted proxy saw; what the client says about itself is kept as a claim.
        ip_address=client_address(request),
        forwarded_for=", ".join(forwarded_for(request))[:300],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def log_list_access(request, referrals: Iterable[Audited], full: set[int]) -> None:
    """One entry for a page of a list in which some rows showed full personal data."""
    shown = [r for r in referrals if r.pk in full]
    if not shown:
        return
    regions = sorted({r.region_code for r in shown})
    log_access(
        request,
        AccessLog.Action.LIST_PERSONAL_DATA,
        region_code=common_region(regions),
        detail={
            "referrals": [r.pk for r in shown][:MAX_IDS],
            "numbers": [r.number for r in shown][:MAX_IDS],
            "regions": regions[:MAX_IDS],
        },
    )


def common_region(codes: list[str]) -> str:
    """The smallest region containing all these codes (NBS codes nest at lengths 2, 4, 6, 9)."""
    prefix = os.path.commonprefix(codes) if codes else ""  # noqa: RUF071 - codes nest by characters
    return next((prefix[:n] for n in (9, 6, 4, 2) if len(prefix) >= n), "")


def log_export(request, action: str, *, rows: int, region_codes: Iterable[str]) -> None:
    """One entry per exported workbook, placed in the smallest region that holds every row."""
    regions = sorted(set(region_codes))
    log_access(
        request,
        action,
        region_code=common_region(regions),
        detail={
            "rows": rows,
            "filters": dict(request.GET.items()),
            "regions": regions[:MAX_IDS],
        },
    )
