"""Background work of the townships app: large roster imports (django.tasks API).

Immediate in the embedded mode (the request waits), a ``django_tasks_db`` worker when scaled: the
page shows a progress bar fed by ``import.progress`` pushes and, because a push may be lost, also
reads the batch again until it is finished.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from notifications.models import Kind
from notifications.service import notify, push_import_progress
from townships.importers import execute_roster_import
from townships.models import RosterImport


@task()
def run_roster_import(import_id: int) -> str:
    """Run one recorded roster import, pushing progress to its uploader, and tell them the outcome."""
    user_id = RosterImport.objects.values_list("created_by_id", flat=True).get(pk=import_id)

    def progress(done: int, total: int) -> None:
        push_import_progress(user_id, import_id, done, total)

    record = execute_roster_import(import_id, progress=progress)
    notify(
        [user_id],
        kind=Kind.IMPORT_FINISHED,
        title=finished_title(record),
        body=finished_body(record),
        url=reverse("townships:import_detail", args=[record.pk]),
    )
    return record.status


def finished_title(record: RosterImport) -> str:
    if record.status == RosterImport.Status.SUCCEEDED:
        done = _("花名册已导入") if record.applied else _("花名册预览完成")
        return f"{done}：{record.file_name}"
    return _("花名册未导入：%s") % record.file_name


def finished_body(record: RosterImport) -> str:
    if record.status != RosterImport.Status.SUCCEEDED:
        return record.detail
    return _(
        "共 %(total)d 行：新增 %(created)d 人，更新 %(updated)d 人，"
        "未变 %(unchanged)d 人，标为不在册 %(deactivated)d 人。"
    ) % {
        "total": record.total_rows,
        "created": record.created,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "deactivated": record.deactivated,
    }
