"""Calendar days computed by the statutory rule get their own source; holiday names in Chinese.

Rows loaded from chinesecalendar before carried its English names ("Spring Festival"); the calendar
API and the date pickers show the names, and a year taken over from the rule must match its rows
name for name. Names count no days, so no deadline moves.
"""

from django.db import migrations, models


def chinese_names(apps, schema_editor):
    from chinese_calendar import Holiday

    from townships.holidays import chinese_name

    calendar_day = apps.get_model("townships", "CalendarDay")
    for holiday in Holiday:
        calendar_day.objects.filter(name=holiday.value).update(name=chinese_name(holiday.value))


class Migration(migrations.Migration):
    dependencies = [
        ("townships", "0005_roster_import_started_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="calendarday",
            name="source",
            field=models.CharField(
                choices=[
                    ("chinesecalendar", "chinesecalendar 软件包"),
                    ("statutory_rule", "法定节假日规则推算(暂定)"),
                    ("weekday_rule", "周一至周五规则(推定)"),
                    ("admin", "管理员录入"),
                ],
                default="admin",
                max_length=20,
                verbose_name="来源",
            ),
        ),
        migrations.RunPython(chinese_names, migrations.RunPython.noop),
    ]
