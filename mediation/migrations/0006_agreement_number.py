"""The committee's document number of written agreements (协议书文号, e.g. 环调〔2026〕12号).

Adds the numbering fields and the per-committee yearly counter, then numbers the written agreements
recorded before, per committee and year of taking effect, in the order they took effect (then were
recorded), and leaves each counter at the last number given so that new agreements go on from there.
The short name is derived as ``mediation.documents.committee_short_name`` does (copied here so that
this migration does not change when that function does).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "街", "镇", "乡")
COMMITTEE_SUFFIXES = ("人民调解委员会", "调解委员会", "调委会")


def short_name(name: str) -> str:
    full = name = name.strip()
    for suffix in COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    for suffix in TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name[:1] or full[:1]


def number_written_agreements(apps, schema_editor):
    Agreement = apps.get_model("mediation", "Agreement")
    DocumentCounter = apps.get_model("mediation", "DocumentCounter")
    counters: dict[tuple[int, int], int] = {}
    agreements = (
        Agreement.objects.filter(form="written", number_seq__isnull=True, referral__target__isnull=False)
        .select_related("referral__target")
        .order_by("effective_on", "created_at", "pk")
    )
    for agreement in agreements.iterator():
        committee = agreement.referral.target
        key = (committee.pk, agreement.effective_on.year)
        counters[key] = counters.get(key, 0) + 1
        agreement.committee_id = committee.pk
        agreement.number_year = key[1]
        agreement.number_seq = counters[key]
        agreement.number = f"{short_name(committee.name)}调〔{key[1]}〕{counters[key]}号"
        agreement.save(update_fields=["committee", "number_year", "number_seq", "number"])
    DocumentCounter.objects.bulk_create(
        DocumentCounter(committee_id=committee_id, kind="agreement", year=year, last=last)
        for (committee_id, year), last in counters.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('mediation', '0005_followup_clock'),
        ('referrals', '0015_followup_clock_extension_consents'),
        ('townships', '0007_roster_import_undo'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DocumentCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('agreement', '调解协议书')], max_length=16)),
                ('year', models.PositiveSmallIntegerField()),
                ('last', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': '文号计数',
                'verbose_name_plural': '文号计数',
            },
        ),
        migrations.AddField(
            model_name='agreement',
            name='committee',
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='townships.organisation', verbose_name='调解组织'),
        ),
        migrations.AddField(
            model_name='agreement',
            name='number',
            field=models.CharField(blank=True, editable=False, max_length=40, verbose_name='协议书文号'),
        ),
        migrations.AddField(
            model_name='agreement',
            name='number_seq',
            field=models.PositiveIntegerField(editable=False, null=True, verbose_name='文号序号'),
        ),
        migrations.AddField(
            model_name='agreement',
            name='number_year',
            field=models.PositiveSmallIntegerField(editable=False, null=True, verbose_name='文号年度'),
        ),
        migrations.AddConstraint(
            model_name='agreement',
            constraint=models.UniqueConstraint(condition=models.Q(('number_seq__isnull', False)), fields=('committee', 'number_year', 'number_seq'), name='agreement_number_unique'),
        ),
        migrations.AddField(
            model_name='documentcounter',
            name='committee',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='townships.organisation'),
        ),
        migrations.AddConstraint(
            model_name='documentcounter',
            constraint=models.UniqueConstraint(fields=('committee', 'kind', 'year'), name='document_counter_key'),
        ),
        migrations.RunPython(number_written_agreements, migrations.RunPython.noop),
    ]
