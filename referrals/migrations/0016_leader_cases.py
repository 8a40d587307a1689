"""领导包案 (``LeaderCase``): a referral on a year's list of cases a named leader takes charge of;
at most one active entry per referral, taken off with a reason and kept (referrals/leader_cases.py)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0015_followup_clock_extension_consents'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LeaderCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(verbose_name='年度')),
                ('name', models.CharField(max_length=50, verbose_name='包案领导')),
                ('post', models.CharField(max_length=100, verbose_name='职务')),
                ('level', models.CharField(choices=[('city', '市级'), ('county', '县级'), ('township', '镇级')], max_length=16, verbose_name='层级')),
                ('assigned_on', models.DateField(verbose_name='包案日期')),
                ('assigned_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='登记时间')),
                ('removed_on', models.DateField(blank=True, null=True, verbose_name='撤出日期')),
                ('reason', models.CharField(blank=True, max_length=500, verbose_name='撤出原因')),
                ('assigned_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='登记人')),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='leader_cases', to='referrals.referral')),
                ('removed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='撤出登记人')),
            ],
            options={
                'verbose_name': '领导包案',
                'verbose_name_plural': '领导包案',
                'ordering': ['year', 'level', 'name', 'assigned_on', 'id'],
                'indexes': [models.Index(fields=['year', 'level'], name='leader_case_year_level')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('removed_on__isnull', True)), fields=('referral',), name='leader_case_one_active_per_referral')],
            },
        ),
    ]
