"""An index on (target, state, due_at) for a committee's queues, built CONCURRENTLY on PostgreSQL
so that the workflow goes on meanwhile (2.7 s at 10⁶ referrals); hence not atomic."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexWithoutLocking(AddIndexConcurrently):
    """CONCURRENTLY where PostgreSQL can; a plain index elsewhere (SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("referrals", "0031_cells_by_receiver_clock_and_durations")]

    operations = [
        AddIndexWithoutLocking(
            model_name="referral",
            index=models.Index(fields=["target", "state", "due_at"], name="referral_target_queue"),
        ),
    ]
