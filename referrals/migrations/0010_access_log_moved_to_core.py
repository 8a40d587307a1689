from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("referrals", "0009_one_noun_per_action"), ("core", "0002_access_log_moved_here")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AccessLog")], database_operations=[]),
    ]
