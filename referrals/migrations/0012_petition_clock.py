"""The petition's own clock (信访工作条例 2022 Art. 34): 60 days from the office's acceptance (受理日期),
extended once by at most 30 days (``PetitionExtension``), with reminders under the kind ``petition``.

Existing referrals were accepted, as far as the code knew, on the day they were received: their
acceptance date becomes ``received_on`` and so their ``petition_due_on`` stays as it was.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

DEADLINE_KINDS = [
    ("refer", "移交期限"),
    ("accept", "受理期限"),
    ("mediate", "调解期限"),
    ("review", "审核办结期限"),
    ("petition", "信访办理期限"),
]
OPEN_STATES = ("draft", "submitted", "mediating", "declined", "succeeded", "failed")


def accepted_when_received(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Referral.objects.filter(petition_accepted_on__isnull=True).update(petition_accepted_on=models.F("received_on"))


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0011_urge_withdraw_correction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="petition_accepted_on",
            field=models.DateField(blank=True, null=True, verbose_name="信访受理日期"),
        ),
        migrations.AddField(
            model_name="referral",
            name="petition_extension_days",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="信访办理期限已延长天数"),
        ),
        migrations.AlterField(
            model_name="referral",
            name="deadline_kind",
            field=models.CharField(blank=True, choices=DEADLINE_KINDS, max_length=16, verbose_name="期限类型"),
        ),
        migrations.AlterField(
            model_name="deadlinereminder",
            name="kind",
            field=models.CharField(choices=DEADLINE_KINDS, max_length=16),
        ),
        migrations.CreateModel(
            name="PetitionExtension",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("days", models.PositiveSmallIntegerField(verbose_name="延长天数")),
                ("reason", models.CharField(max_length=500, verbose_name="延期理由")),
                ("approved_by_name", models.CharField(max_length=100, verbose_name="批准人")),
                ("previous_due_on", models.DateField(verbose_name="原办理期限")),
                ("due_on", models.DateField(verbose_name="延长后办理期限")),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "referral",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="petition_extension",
                        to="referrals.referral",
                    ),
                ),
            ],
            options={
                "verbose_name": "信访办理期限延长",
                "verbose_name_plural": "信访办理期限延长",
            },
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("state__in", OPEN_STATES)),
                fields=["petition_due_on"],
                name="referral_open_petition_due",
            ),
        ),
        migrations.RunPython(accepted_when_received, migrations.RunPython.noop),
    ]
