"""The standard organisations of Jiangmen (reference data, not demo data): every database has them."""

from django.db import migrations


def load(apps, schema_editor):
    from townships.reference import load_organisations

    load_organisations(apps.get_model("townships", "Organisation"), apps.get_model("townships", "Region"))


class Migration(migrations.Migration):
    dependencies = [("townships", "0002_reference_data")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
