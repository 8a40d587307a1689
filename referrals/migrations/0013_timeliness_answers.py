"""What was due, not only what was finished: the stored half of the honest timeliness rates.

A return (退回) within the acceptance deadline is a timely answer, and "closed on time" is now the
review deadline's (the petition's own clock has its figure). Rows closed or returned before this
migration get both from their history; the statistics cells are emptied so that the first
``migrate`` refills them with the new columns (``rollup.fill_empty``).
"""

from django.db import migrations, models


def from_history(apps, schema_editor):
    from django.conf import settings
    from django.utils import timezone

    from townships.calendar import add_working_days

    Referral = apps.get_model("referrals", "Referral")
    Handling = apps.get_model("referrals", "Handling")
    review_days = settings.FANGDIAO["REVIEW_WORKING_DAYS"]
    accept_days = settings.FANGDIAO["ACCEPT_WORKING_DAYS"]

    def local(moment):
        return timezone.localtime(moment).date()

    for r in Referral.objects.filter(closed_at__isnull=False).iterator(chunk_size=2000):
        # The review clock started when mediation ended, or when the referral came back returned.
        started = r.concluded_at
        if started is None:
            last = Handling.objects.filter(referral=r, result="declined").order_by("-ended_at").first()
            started = last.ended_at if last else None
        if started is not None:
            due = add_working_days(local(started), review_days).date
            Referral.objects.filter(pk=r.pk).update(closed_on_time=local(r.closed_at) <= due)
    for h in Handling.objects.filter(result="declined", ended_at__isnull=False).order_by("referral_id", "ended_at"):
        due = add_working_days(local(h.started_at), accept_days).date
        Referral.objects.filter(pk=h.referral_id).update(declined_on_time=local(h.ended_at) <= due)
    apps.get_model("referrals", "StatsCell").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0012_petition_clock")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="declined_on_time",
            field=models.BooleanField(blank=True, null=True, verbose_name="按期退回"),
        ),
        migrations.AddField(
            model_name="referral",
            name="closed_on_time",
            field=models.BooleanField(blank=True, null=True, verbose_name="按期办结"),
        ),
        # The petition's arrival is its registration (登记); 受理 is the office's decision to take it up.
        migrations.AlterField(model_name="referral", name="received_on", field=models.DateField(verbose_name="信访登记日期")),
        migrations.AddField(model_name="statscell", name="petition_on_time", field=models.IntegerField(default=0)),
        migrations.AddField(model_name="statscell", name="answered", field=models.IntegerField(default=0)),
        migrations.AddField(model_name="statscell", name="answered_on_time", field=models.IntegerField(default=0)),
        migrations.RemoveIndex(model_name="referral", name="referral_stats"),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["region_code", "received_on"],
                include=(
                    "id",
                    "category",
                    "state",
                    "origin_id",
                    "submitted_at",
                    "accepted_at",
                    "concluded_at",
                    "closed_at",
                    "mediation_started_at",
                    "petition_due_on",
                    "outcome",
                    "returns_count",
                    "ping_pong",
                    "accepted_on_time",
                    "declined_on_time",
                    "concluded_on_time",
                    "closed_on_time",
                    "deadline_kind",
                    "due_at",
                    "due_soon_at",
                ),
                name="referral_stats",
            ),
        ),
        migrations.RunPython(from_history, migrations.RunPython.noop),
    ]
