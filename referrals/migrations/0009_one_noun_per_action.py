"""Timeline events are named after the action that wrote them (referrals/registry.py): the records'
older event names become their actions' names. A rename of codes, not an edit of history: who did
what and when stays as it was."""

from django.db import migrations

RENAMED = {
    "create": "create_referral",
    "edit": "update_draft",
    "session": "record_session",
    "session_edit": "update_session",
    "agreement_progress": "record_agreement_progress",
    "followup": "add_followup",
    "supervision": "issue_supervision",
    "supervision_response": "respond_supervision",
    "attachment": "add_attachment",
}


def rename(apps, schema_editor, mapping=RENAMED):
    # The historical model has a plain manager: the append-only queryset guards application code.
    TimelineEvent = apps.get_model("referrals", "TimelineEvent")
    for old, new in mapping.items():
        TimelineEvent.objects.filter(action=old).update(action=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [("referrals", "0008_accesslog_forwarded_for_alter_accesslog_action_and_more")]

    operations = [migrations.RunPython(rename, rename_back)]
