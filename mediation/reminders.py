"""Sweeps of the mediation app, run with the deadline sweep (referrals/reminders.py).

Each is idempotent the same way: a reminder row under a unique constraint is claimed in the same
transaction as its notifications.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.models import Agreement, ConfirmationReminder, SupervisionOrder, SupervisionReminder
from notifications.models import Kind as NotificationKind
from notifications.service import notify
from referrals import permissions
from referrals.models import State
from referrals.workflow import referral_url


def _claim_and_notify(claim, people, **message) -> bool:
    try:
        with transaction.atomic():
            claim()
            notify(people, **message)
    except IntegrityError:
        return False
    return True


def sweep_confirmation_windows(now: datetime.datetime) -> int:
    """Remind the committee and the petition office before the judicial-confirmation window closes."""
    today = timezone.localdate(now)
    days = settings.FANGDIAO["CONFIRMATION_DAYS"]
    ahead = settings.FANGDIAO["CONFIRMATION_REMIND_DAYS"]
    # Rough bounds in SQL (the exact last day rolls past rest days and is checked below).
    candidates = Agreement.objects.filter(
        confirmation_applied_on__isnull=True,
        confirmation_reminder__isnull=True,
        referral__state__in=(State.SUCCEEDED, State.CLOSED),
        effective_on__gte=today - datetime.timedelta(days=days + 15),
        effective_on__lte=today - datetime.timedelta(days=days - ahead),
    ).select_related("referral")
    sent = 0
    for agreement in candidates.iterator(chunk_size=500):
        referral = agreement.referral
        deadline = agreement.confirmation_deadline
        if agreement.round != referral.round or not (today <= deadline <= today + datetime.timedelta(days=ahead)):
            continue
        people = list(permissions.audience(referral, "target")) + list(permissions.audience(referral, "origin"))
        sent += _claim_and_notify(
            lambda a=agreement: ConfirmationReminder.objects.create(agreement=a),
            people,
            kind=NotificationKind.CONFIRMATION_WINDOW,
            title=_("%(number)s 司法确认申请期将于%(date)s届满")
            % {"number": referral.number, "date": deadline.isoformat()},
            body=_("如当事人需要申请司法确认，请提醒其在期限内向人民法院提出。"),
            url=referral_url(referral),
            referral_id=referral.pk,
        )
    return sent


def sweep_overdue_supervisions(now: datetime.datetime) -> int:
    """Tell the issuing supervisor once when a supervision order's response is overdue."""
    today = timezone.localdate(now)
    orders = SupervisionOrder.objects.filter(
        responded_at__isnull=True, respond_by__lt=today, overdue_reminder__isnull=True
    ).select_related("referral", "addressed_to")
    sent = 0
    for order in orders.iterator(chunk_size=500):
        referral = order.referral
        sent += _claim_and_notify(
            lambda o=order: SupervisionReminder.objects.create(order=o),
            [order.issued_by_id],
            kind=NotificationKind.SUPERVISION_RESPONSE,
            title=_("%(number)s 督办逾期未回复(%(org)s)")
            % {"number": referral.number, "org": order.addressed_to.name if order.addressed_to else ""},
            body=order.note[:120],
            url=referral_url(referral),
            referral_id=referral.pk,
        )
    return sent
