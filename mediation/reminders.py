"""Sweeps of the mediation app, run with the deadline sweep (referrals/reminders.py).

Each is idempotent: a reminder is claimed in the same transaction as its notifications — by a row
under a unique constraint, or (a correction request) by a conditional UPDATE of its ``reminded_at``
that only one sweep can win.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.models import Agreement, ConfirmationReminder, CorrectionRequest, SupervisionOrder, SupervisionReminder
from mediation.notices import Notice
from notifications.service import notify
from referrals import permissions
from referrals.models import CONCLUDED_STATES, State
from referrals.steps import referral_url


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
        form=Agreement.Form.WRITTEN,  # only a written agreement can be confirmed (Art. 33)
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
        if (
            deadline is None
            or agreement.round != referral.round
            or not (today <= deadline <= today + datetime.timedelta(days=ahead))
        ):
            continue
        people = list(permissions.audience(referral, "target")) + list(permissions.audience(referral, "origin"))
        sent += _claim_and_notify(
            lambda a=agreement: ConfirmationReminder.objects.create(agreement=a),
            people,
            kind=Notice.CONFIRMATION_WINDOW,
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
            kind=Notice.SUPERVISION_RESPONSE,
            title=_("%(number)s 督办逾期未回复(%(org)s)")
            % {"number": referral.number, "org": order.addressed_to.name if order.addressed_to else ""},
            body=order.note[:120],
            url=referral_url(referral),
            referral_id=referral.pk,
        )
    return sent


def sweep_overdue_corrections(now: datetime.datetime) -> int:
    """Tell the committee, and the reviewer who asked, once when a 退回补正 is past its deadline
    (``CLOCK_CORRECTION_WORKING_DAYS``) with papers still missing. Only requests of the referral's
    current round while it awaits review: a closed or reopened referral has moved on."""
    today = timezone.localdate(now)
    late = CorrectionRequest.objects.filter(
        answered_at__isnull=True,
        reminded_at__isnull=True,
        due_on__lt=today,
        referral__state__in=CONCLUDED_STATES,
        round=F("referral__round"),
    ).select_related("referral")
    sent = 0
    for request in late.iterator(chunk_size=500):
        referral = request.referral
        with transaction.atomic():
            # Exactly once: of two sweeps at once, only one finds reminded_at still empty.
            if not CorrectionRequest.objects.filter(pk=request.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            notify(
                [*permissions.audience(referral, "target"), request.requested_by_id],
                kind=Notice.CORRECTION_OVERDUE,
                title=_("%(number)s 退回补正已逾期(期限%(date)s)")
                % {"number": referral.number, "date": request.due_on.isoformat()},
                body=_("尚缺：%s") % "、".join(request.labels(request.outstanding)),
                url=referral_url(referral),
                referral_id=referral.pk,
            )
        sent += 1
    return sent
