"""The follow-up clock (回访期限) for referrals concluded before it existed.

``referrals 0015`` adds ``followup_due_on``, ``followup_provisional`` and ``followed_up_on``; this fills
them for every referral whose current round is concluded (succeeded, failed, or closed after a
conclusion): due ``CLOCK_FOLLOWUP_DAYS`` calendar days after the conclusion, rolled past rest days
(``referrals.deadlines.followup_due``), and satisfied by the earliest follow-up recorded since that
conclusion. It lives here because the follow-ups are mediation's records.

A follow-up already overdue when this runs is marked as reminded (its overdue ``DeadlineReminder``),
so that an upgrade does not announce at once every follow-up missed before the clock existed; such
referrals are still counted and listed by ``followup_overdue`` on the dashboard.
"""

from django.db import migrations
from django.db.models import Min, OuterRef, Subquery

FOLLOWUP_STATES = ("succeeded", "failed", "closed")


def fill_followup_clock(apps, schema_editor):
    from django.conf import settings
    from django.utils import timezone

    from townships.calendar import calendar_period_end

    Referral = apps.get_model("referrals", "Referral")
    FollowUp = apps.get_model("mediation", "FollowUp")
    DeadlineReminder = apps.get_model("referrals", "DeadlineReminder")
    days = settings.FANGDIAO["FOLLOWUP_DAYS"]
    today = timezone.localdate()

    # The first visit recorded since the current round concluded (a follow-up can only be recorded once
    # a round has concluded, so those created after ``concluded_at`` are this round's).
    first_visit = (
        FollowUp.objects.filter(referral=OuterRef("pk"), created_at__gte=OuterRef("concluded_at"))
        .order_by()
        .values("referral")
        .annotate(first=Min("visited_on"))
        .values("first")
    )
    concluded = (
        Referral.objects.filter(state__in=FOLLOWUP_STATES, concluded_at__isnull=False)
        .annotate(first_visit=Subquery(first_visit))
        .only("pk", "concluded_at")
        .order_by("pk")
    )
    batch, reminders = [], []
    for referral in concluded.iterator(chunk_size=2000):
        due = calendar_period_end(timezone.localtime(referral.concluded_at).date(), days)
        referral.followup_due_on, referral.followup_provisional = due.date, due.provisional
        referral.followed_up_on = referral.first_visit
        batch.append(referral)
        if referral.first_visit is None and due.date < today:
            reminders.append(
                DeadlineReminder(referral_id=referral.pk, kind="followup", due_on=due.date, level="overdue")
            )
        if len(batch) >= 2000:
            Referral.objects.bulk_update(batch, ["followup_due_on", "followup_provisional", "followed_up_on"])
            batch = []
    Referral.objects.bulk_update(batch, ["followup_due_on", "followup_provisional", "followed_up_on"])
    DeadlineReminder.objects.bulk_create(reminders, batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0004_correction_request"),
        ("referrals", "0015_followup_clock_extension_consents"),
    ]

    operations = [migrations.RunPython(fill_followup_clock, migrations.RunPython.noop)]
