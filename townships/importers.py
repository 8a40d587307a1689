"""Roster import batches (花名册导入): record an upload, run it, apply a preview, undo an apply.

The path of one file:

1. ``lib/spreadsheets`` judges the file by its bytes (xlsx, xls, ods, or CSV in UTF-8 with or
   without BOM, UTF-16, GBK/GB18030), refuses oversized files, zip bombs, macro-enabled and
   encrypted ones (and an xlsx with a DTD) with a Chinese message before any parser runs, and
   hands out the rows with the row numbers Excel shows.
2. ``townships/roster_import/`` finds the header (``columns``), checks every row (``rows``),
   resolves its committee (``places``) and writes the valid ones all or none (``importer``,
   ``writes``); ``people`` lists who is created, changed and taken off the roster; ``workbooks``
   writes the error list and the template; ``undo`` puts an apply back within 24 hours.
3. Here, a batch (``RosterImport``: who, when, file hash, counts, errors, the lists) is recorded and
   run in the request or, for a large file, as a task; a clean preview is applied from its stored
   file; a batch whose process died is marked failed by the minute sweep.

townships knows neither WebSockets nor notifications: whoever starts a batch says how it runs
and who hears about it, by passing ``run`` (``config/roster_imports.py`` is what the roster pages
and API pass: progress pushed to the uploader, a large file queued, a notice when it is done).
Without it a batch runs at once and tells nobody (management commands, tests).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import uuid
from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from lib.spreadsheets import ImportRefused, extension, inspect_file
from townships.models import Organisation, RosterImport
from townships.roster_import.importer import Limits, Progress, RosterImporter, limits
from townships.roster_import.undo import may_undo, undo_deadline

log = logging.getLogger(__name__)

Run = Callable[[RosterImport], RosterImport]
Finished = Callable[[RosterImport], None]


def file_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def start_roster_import(
    *,
    user,
    upload: UploadedFile,
    dry_run: bool = True,
    replace: bool = False,
    default_committee: Organisation | None = None,
    run: Run | None = None,
) -> RosterImport:
    """Record an uploaded roster and ``run`` it (default ``run_or_enqueue``: at once, silently).

    The caller has checked that the user may manage some roster; which rosters the file touches is
    checked row by row. Returns the batch, finished unless it is waiting for a worker.
    """
    lim = limits()
    record = RosterImport(
        created_by=user,
        file_name=os.path.basename(upload.name or "roster")[:255],
        file_size=upload.size or 0,
        dry_run=dry_run,
        replace=replace,
        default_committee=default_committee,
    )
    if record.file_size > lim.max_bytes:
        # Refused before it is stored or hashed: the upload is already on disk once, that is enough.
        record.status = RosterImport.Status.REFUSED
        record.detail = inspect_refusal(upload, lim)
        record.finished_at = timezone.now()
        record.save()
        return record
    record.file_sha256 = file_sha256(upload)
    record.file.save(f"{uuid.uuid4().hex}{extension(record.file_name)[:8]}", upload, save=False)
    record.save()
    _purge_old_files()
    return (run or run_or_enqueue)(record)


def inspect_refusal(upload: UploadedFile, lim: Limits) -> str:
    try:
        inspect_file(upload, upload.name or "", upload.size or 0, lim)
    except ImportRefused as exc:
        return exc.message
    return ""


def run_or_enqueue(
    record: RosterImport, *, progress: Progress | None = None, enqueue: Callable[[int], object] | None = None
) -> RosterImport:
    """Run a recorded batch now, or hand a large one (over ``Limits.inline_max_bytes``) to
    ``enqueue`` (a task's ``enqueue``, given the batch id) when there is a queue to hand it to."""
    if enqueue is None or record.file_size <= limits().inline_max_bytes:
        return execute_roster_import(record.pk, progress=progress)
    enqueue(record.pk)
    record.refresh_from_db()
    return record


def runner() -> Run:
    """How the roster pages and API run a batch (``settings.ROSTER_IMPORT_RUNNER``, a dotted path):
    the project's glue pushes progress and announces the result through notifications, which this
    app may not import. Named in settings, like Django's own backends, so townships imports nothing above it."""
    return import_string(settings.ROSTER_IMPORT_RUNNER)


def apply_preview(preview: RosterImport, *, user, run: Run | None = None) -> RosterImport | None:
    """Apply a dry run that found no mistakes, from the file it checked (no second upload).

    None when the preview may not be applied (it had mistakes, or it was applied already: the
    preview row is locked so that two presses of "确认导入" apply it once).
    """
    with transaction.atomic():
        preview = RosterImport.objects.select_for_update().get(pk=preview.pk)
        if not may_apply(preview):
            return None
        record = RosterImport.objects.create(
            created_by=user,
            file=preview.file.name,
            file_name=preview.file_name,
            file_sha256=preview.file_sha256,
            file_size=preview.file_size,
            file_format=preview.file_format,
            dry_run=False,
            replace=preview.replace,
            default_committee=preview.default_committee,
            preview=preview,
        )
    return (run or run_or_enqueue)(record)


def execute_roster_import(
    import_id: int, *, progress: Progress | None = None, finished: Finished | None = None
) -> RosterImport:
    """Run one recorded batch to its end (idempotent: a batch already claimed is left alone), then
    hand it to ``finished``."""
    claimed = RosterImport.objects.filter(pk=import_id, status=RosterImport.Status.QUEUED).update(
        status=RosterImport.Status.RUNNING, started_at=timezone.now()
    )
    record = RosterImport.objects.select_related("created_by", "default_committee__region").get(pk=import_id)
    if not claimed:
        return record
    importer = RosterImporter(
        user=record.created_by,
        dry_run=record.dry_run,
        replace=record.replace,
        default_committee=record.default_committee,
        progress=progress,
        record=None if record.dry_run else record,
    )
    try:
        with record.file.open("rb") as handle:
            report = importer.run(handle, record.file_name, record.file_size)
    except ImportRefused as exc:
        record.status = RosterImport.Status.REFUSED
        record.detail = exc.message[:500]
        record.total_rows = importer.report.total_rows
    except IntegrityError:
        log.warning("roster import %s lost a race", import_id, exc_info=True)
        record.status = RosterImport.Status.FAILED
        record.detail = _("导入时花名册被他人同时修改，未写入任何数据，请重新导入。")
    except Exception:
        log.exception("roster import %s failed", import_id)
        record.status = RosterImport.Status.FAILED
        record.detail = _("处理文件时出错，未写入任何数据。请稍后重试，或联系系统管理员。")
    else:
        _record_report(record, report)
    record.finished_at = timezone.now()
    record.save()
    if record.applied:
        forget_file(record)
    if finished is not None:
        finished(record)
    return record


def _record_report(record: RosterImport, report) -> None:
    record.status = RosterImport.Status.INVALID if report.error_count else RosterImport.Status.SUCCEEDED
    record.applied = not record.dry_run and not report.error_count
    record.file_format = report.file_format
    record.sheet_name = report.sheet_name[:100]
    record.header_row = report.header_row
    record.total_rows = report.total_rows
    record.created = report.created
    record.updated = report.updated
    record.unchanged = report.unchanged
    record.deactivated = report.deactivated
    record.error_count = report.error_count
    record.errors = [e.as_dict() for e in report.errors]
    record.committees = report.committee_list()
    # A file with mistakes writes nobody: its lists would only say what a corrected file might do.
    record.people = {} if report.error_count else report.people.as_json()
    if report.error_count:
        record.detail = _("发现 %d 处错误，未导入任何数据。请改正后重新上传。") % report.error_count


# A batch of 20,000 rows runs in well under a minute (BENCHMARKS.md); one still "running" after this
# long lost its process (a crash, a kill, a restart) and, its transaction rolled back, wrote nothing.
STALLED_AFTER = datetime.timedelta(minutes=30)


def reap_stalled_imports(now: datetime.datetime | None = None) -> int:
    """Mark batches whose process died as failed, so that the user learns it and may import again
    (an apply still "running" would block every later apply of its preview)."""
    now = now or timezone.now()
    return RosterImport.objects.filter(status=RosterImport.Status.RUNNING, started_at__lt=now - STALLED_AFTER).update(
        status=RosterImport.Status.FAILED,
        finished_at=now,
        detail=_("导入过程意外中断（服务器重启或进程退出），未写入任何数据，请重新导入。"),
    )


def forget_file(record: RosterImport) -> None:
    """Delete the stored upload once its rows are in the database: it holds ID numbers."""
    name = record.file.name
    if not name:
        return
    RosterImport.objects.filter(file=name).update(file="")
    record.file.storage.delete(name)
    record.file.name = ""


def _purge_old_files(days: int = 7) -> None:
    """Uploads nobody applied are kept a week (to apply a preview or fetch its error list), no longer."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    for record in RosterImport.objects.filter(created_at__lt=cutoff).exclude(file="")[:100]:
        try:
            record.file.storage.delete(record.file.name)
        except OSError:
            log.warning("could not delete %s", record.file.name, exc_info=True)
        RosterImport.objects.filter(file=record.file.name).update(file="")


def imports_of(user):
    """The batches a user may look at: their own (everyone's for a superuser)."""
    qs = RosterImport.objects.select_related("created_by")
    return qs if user.is_superuser else qs.filter(created_by=user)


def import_for(user, pk: int) -> RosterImport:
    """A batch the user may look at: their own, or an applied one whose every committee they keep
    (a keeper of the region may undo a colleague's import). ``RosterImport.DoesNotExist`` otherwise."""
    record = RosterImport.objects.select_related("created_by", "preview", "default_committee").get(pk=pk)
    if user.is_superuser or record.created_by_id == user.pk or (record.applied and may_undo(user, record)):
        return record
    raise RosterImport.DoesNotExist


def report_json(record: RosterImport) -> dict:
    """The report of docs/api.md (plus status, detail, the committees touched, the people and undo)."""
    deadline = undo_deadline(record)
    return {
        "id": record.pk,
        "status": record.status,
        "status_label": record.get_status_display(),
        "dry_run": record.dry_run,
        "applied": record.applied,
        "replace": record.replace,
        "file_name": record.file_name,
        "file_sha256": record.file_sha256,
        "sheet": record.sheet_name,
        "header_row": record.header_row,
        "total_rows": record.total_rows,
        "created": record.created,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "deactivated": record.deactivated,
        "people": {kind: record.people.get(kind, []) for kind in ("created", "updated", "deactivated")},
        "committees": record.committees,
        "error_count": record.error_count,
        "errors": record.errors,
        "detail": record.detail,
        "preview": record.preview_id,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "undoable_until": deadline.isoformat() if deadline else None,
        "undone_at": record.undone_at.isoformat() if record.undone_at else None,
    }


_ACTIVE = (RosterImport.Status.QUEUED, RosterImport.Status.RUNNING)


def may_apply(record: RosterImport) -> bool:
    return (
        record.dry_run
        and record.status == RosterImport.Status.SUCCEEDED
        and bool(record.file.name)
        and not record.applies.filter(status__in=[RosterImport.Status.SUCCEEDED, *_ACTIVE]).exists()
    )
