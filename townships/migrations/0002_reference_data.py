"""Jiangmen's regions and the official calendar 2020–2026, present in every database (tests too)."""

from django.db import migrations


def load(apps, schema_editor):
    from townships.calendar import load_year
    from townships.reference import load_regions

    load_regions(apps.get_model("townships", "Region"))
    calendar_day = apps.get_model("townships", "CalendarDay")
    for year in range(2020, 2027):
        load_year(year, model=calendar_day)


class Migration(migrations.Migration):
    dependencies = [("townships", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
