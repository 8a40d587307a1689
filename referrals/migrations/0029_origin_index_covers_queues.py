"""The origin index carries the state and the clock, so that a petition office's own figures and
queues are read from the index alone, and the replies delivered (复查复核's figures) have an index of
their own (a few seconds to build at 10⁶ referrals)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0028_stored_durations"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="referral", name="referral_origin_recent"),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["origin", "-id"], include=("state", "due_at", "due_soon_at"), name="referral_origin_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(reply_delivered_on__isnull=False),
                fields=["reply_delivered_on"],
                name="referral_reply_delivered",
            ),
        ),
    ]
