"""The read audit (AccessLog) belongs to the base app now: the same table, only Django's idea of which
app owns it moves (no row is touched; the log is append-only)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("referrals", "0009_one_noun_per_action"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间")),
                        ("username", models.CharField(max_length=150, verbose_name="用户名")),
                        ("action", models.CharField(max_length=32, verbose_name="操作")),
                        ("referral_id", models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name="案件")),
                        ("referral_number", models.CharField(blank=True, max_length=32, verbose_name="案件编号")),
                        ("region_code", models.CharField(blank=True, db_index=True, max_length=12, verbose_name="区划代码")),
                        ("detail", models.JSONField(blank=True, default=dict, verbose_name="详情")),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True, verbose_name="IP地址")),
                        ("forwarded_for", models.CharField(blank=True, max_length=300, verbose_name="转发链(客户端自报)")),
                        ("user_agent", models.CharField(blank=True, max_length=300, verbose_name="浏览器(客户端自报)")),
                        (
                            "user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="用户",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "访问日志",
                        "verbose_name_plural": "访问日志",
                        "db_table": "referrals_accesslog",
                        "ordering": ["-at", "-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
