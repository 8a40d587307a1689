"""Mediation's cells in the referral ledger (台账): how each concluded referral's current round ended.

Read in bulk for a chunk of referrals (``Extension.ledger_outcomes``): a ledger is tens of thousands
of rows, and the referral page's per-referral sections would cost two queries' worth of objects each.
The cells say what the referral page's outcome section says (``extensions.outcome_json``): an
agreement of the round first, else its termination with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

from mediation.models import Agreement, Termination
from referrals.models import TerminationReason


def outcomes(rounds: Mapping[int, int]) -> dict[int, tuple[str, float | None]]:
    """{referral id: its current round} → {referral id: (调解结果, 协议金额 or None)}."""
    cells: dict[int, tuple[str, float | None]] = {}
    agreed = Agreement.objects.filter(referral_id__in=list(rounds)).values_list("referral_id", "round", "amount")
    for referral_id, round_, amount in agreed:
        if rounds[referral_id] == round_ and referral_id not in cells:
            cells[referral_id] = (_("达成协议"), float(amount) if amount is not None else None)
    ended = Termination.objects.filter(referral_id__in=list(rounds)).values_list("referral_id", "round", "reason")
    reasons = {value: str(label) for value, label in TerminationReason.choices}
    for referral_id, round_, reason in ended:
        if rounds[referral_id] == round_ and referral_id not in cells:
            label = reasons.get(reason, "")
            cells[referral_id] = (_("终止调解：%s") % label if label else _("终止调解"), None)
    return cells
