"""How a roster import runs and who hears about it: the glue between townships and notifications.

townships may not import notifications (docs/architecture.md#layout puts it below), and notifications names no
caller's subject; this module of the project layer, which may use every app, is where the two
meet. The roster pages and API pass ``run`` to ``start_roster_import`` and ``apply_preview``:

- a small file runs during the request, its progress pushed to the uploader's sockets as
  ``{"type": "import.progress", "import": id, "done": n, "total": m}`` (the upload page shows it);
- a large one is queued, and a worker runs ``run_roster_import``, pushing the same progress and
  then storing and pushing the "花名册导入完成" notice.

The task lives here, not in townships: a queued task is found again by its dotted path and given
only the batch id (callbacks do not travel through a queue), so its module must be able to build
the callbacks itself.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from notifications import kinds
from notifications.service import notify, push_import_progress
from townships.importers import execute_roster_import, run_or_enqueue
from townships.models import RosterImport
from townships.roster_import.importer import Progress


class RosterNotice(models.TextChoices):
    IMPORT_FINISHED = "import_finished", gettext_lazy("花名册导入完成")


kinds.register(RosterNotice)


def run(record: RosterImport) -> RosterImport:
    """Run a recorded batch now (a small file) or queue it for a worker, telling its uploader how it goes."""
    return run_or_enqueue(record, progress=progress_to_uploader(record), enqueue=run_roster_import.enqueue)


@task()
def run_roster_import(import_id: int) -> str:
    """Run one queued roster import, pushing progress to its uploader, and tell them the outcome."""
    record = RosterImport.objects.only("pk", "created_by_id").get(pk=import_id)
    finished = execute_roster_import(import_id, progress=progress_to_uploader(record), finished=announce_finished)
    return finished.status


def progress_to_uploader(record: RosterImport) -> Progress:
    user_id, import_id = record.created_by_id, record.pk

    def progress(done: int, total: int) -> None:
        push_import_progress(user_id, import_id, done, total)

    return progress


def announce_finished(record: RosterImport) -> None:
    notify(
        [record.created_by_id],
        kind=RosterNotice.IMPORT_FINISHED,
        title=finished_title(record),
        body=finished_body(record),
        url=reverse("townships:import_detail", args=[record.pk]),
    )


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
