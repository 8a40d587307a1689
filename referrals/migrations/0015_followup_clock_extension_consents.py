"""The follow-up clock (``followup_due_on``, ``followup_provisional``, ``followed_up_on``; reminders of the
kind ``followup``) and each party's consent to an extension (``ExtensionConsent``).

Referrals concluded before this are given their follow-up clock by ``mediation 0005_followup_clock``
(it reads their follow-ups, which are mediation's records).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0014_saved_filters"),
        ("townships", "0007_roster_import_undo"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExtensionConsent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("consented_on", models.DateField(verbose_name="同意延期日期")),
                (
                    "method",
                    models.CharField(
                        choices=[("written", "书面同意"), ("oral", "口头同意(已记录)")],
                        max_length=16,
                        verbose_name="同意方式",
                    ),
                ),
            ],
            options={
                "verbose_name": "当事人同意延期",
                "verbose_name_plural": "当事人同意延期",
                "ordering": ["extension_id", "party__position", "party_id"],
            },
        ),
        migrations.AddField(
            model_name="referral",
            name="followed_up_on",
            field=models.DateField(blank=True, null=True, verbose_name="回访日期"),
        ),
        migrations.AddField(
            model_name="referral",
            name="followup_due_on",
            field=models.DateField(blank=True, null=True, verbose_name="回访期限"),
        ),
        migrations.AddField(
            model_name="referral",
            name="followup_provisional",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="deadlinereminder",
            name="kind",
            field=models.CharField(
                choices=[
                    ("refer", "移交期限"),
                    ("accept", "受理期限"),
                    ("mediate", "调解期限"),
                    ("review", "审核办结期限"),
                    ("petition", "信访办理期限"),
                    ("followup", "回访期限"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="referral",
            name="deadline_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("refer", "移交期限"),
                    ("accept", "受理期限"),
                    ("mediate", "调解期限"),
                    ("review", "审核办结期限"),
                    ("petition", "信访办理期限"),
                    ("followup", "回访期限"),
                ],
                max_length=16,
                verbose_name="期限类型",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("followed_up_on__isnull", True), ("followup_due_on__isnull", False)),
                fields=["followup_due_on"],
                name="referral_followup_due",
            ),
        ),
        migrations.AddField(
            model_name="extensionconsent",
            name="extension",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="consents", to="referrals.extension"
            ),
        ),
        migrations.AddField(
            model_name="extensionconsent",
            name="party",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="extension_consents", to="referrals.party"
            ),
        ),
        migrations.AddConstraint(
            model_name="extensionconsent",
            constraint=models.UniqueConstraint(fields=("extension", "party"), name="extension_consent_once_per_party"),
        ),
    ]
