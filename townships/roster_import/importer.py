"""``RosterImporter``: a roster file checked row by row and, unless a dry run, written all or none.

Every row is validated (``rows.RowChecker``), its committee resolved in memory (``places``), and
the valid ones upserted by (committee, ID number) in batches; with "replace" the absent of the
committees the file covers are deactivated. A dry run writes nothing; an apply writes every row or
none (one transaction, rolled back at the first error while validation goes on, so that the report
still lists every mistake).

Memory is bounded: the reader holds at most ``Limits.max_in_memory_mb`` of a sheet (calamine) or
streams it (openpyxl, CSV); rows are validated one by one and written in batches; what is kept per
row is a key for the duplicate check (committee, ID number → row number), and the first
``Limits.max_listed_people`` people of each list the preview shows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lib.spreadsheets import (
    FileLimits,
    ImportRefused,
    Sheet,
    SpreadsheetFile,
    cell_text,
    guarded,
    inspect_file,
    is_blank,
)
from townships.models import Mediator, Organisation, RosterChange, RosterImport
from townships.roles import roster_scope
from townships.roster_import.columns import COLUMN_BY_KEY, HEADER_PROBLEMS, HEADER_SCAN_ROWS, Header, find_header
from townships.roster_import.people import People
from townships.roster_import.places import CommitteeFinder, CommitteeRef, Directory
from townships.roster_import.rows import Candidate, RowChecker, RowError
from townships.roster_import.writes import VALUE_FIELDS, before, insert_entries, record_changes
from townships.validators import to_halfwidth

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Limits(FileLimits):
    """What a roster file may be. Defaults fit a city-wide roster (about 8,500 people) with room.

    Override with ``settings.ROSTER_IMPORT`` (a dict with these names).
    """

    max_rows: int = 50_000
    # Files up to this size are imported during the request; larger ones run as a task.
    inline_max_bytes: int = 256 * 1024
    progress_every: int = 500
    batch_size: int = 2_000
    max_stored_errors: int = 2_000
    max_listed_people: int = 2_000


def limits() -> Limits:
    return Limits(**getattr(settings, "ROSTER_IMPORT", {}))


@dataclass
class Report:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    committees: dict[str, dict] = field(default_factory=dict)
    sheet_name: str = ""
    header_row: int | None = None
    file_format: str = ""
    encoding: str = ""
    people: People = field(default_factory=lambda: People(limit=Limits.max_listed_people))

    def committee_list(self) -> list[dict]:
        return sorted(self.committees.values(), key=lambda c: (c["region_code"], c["name"]))


class RosterImporter:
    """Validate a roster file and (unless a dry run) upsert it, all rows or none.

    ``user`` must be allowed to manage every roster the file touches (``townships.roles``); a row
    for another region's committee is an error of that row. ``default_committee`` receives the rows
    of a file without county/township columns (a single committee's own list). ``record``, the
    batch being applied, is what its new entries and its ``RosterChange`` rows point to (what
    undoing it works from), and its ``started_at`` the time written into every entry it touches.
    """

    def __init__(
        self,
        *,
        user,
        dry_run: bool = True,
        replace: bool = False,
        default_committee: Organisation | None = None,
        progress: Progress | None = None,
        lim: Limits | None = None,
        record: RosterImport | None = None,
    ) -> None:
        self.user = user
        self.dry_run = dry_run
        self.replace = replace
        self.default_committee = default_committee
        self.progress = progress
        self.lim = lim or limits()
        self.record = record
        self.report = Report(people=People(limit=self.lim.max_listed_people))
        self.directory = Directory()
        self.checker = RowChecker()
        self.committees = CommitteeFinder(self.directory, scope=roster_scope(user), default=_ref_of(default_committee))
        # "committee ident␟ID number" → first row: duplicates in the file, and who is present (for
        # replace). The only thing kept per row; existing entries are read batch by batch.
        self.seen: dict[str, int] = {}
        self.locked: set[int] = set()
        self.covered: set[int] = set()  # existing committees the file has rows for
        self.pending: list[Candidate] = []
        self.writing = not dry_run
        self.now = record.started_at if record is not None and record.started_at else timezone.now()

    # The run ----------------------------------------------------------------------------------

    def run(self, handle: IO[bytes], name: str, size: int | None = None) -> Report:
        if size is None:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(0)
        info = inspect_file(handle, name, size, self.lim)
        self.report.file_format = info.format
        self.report.encoding = info.encoding
        # Every value of a CSV is text: a number Excel cut short is told by its look there.
        self.checker.typed = info.format != "csv"
        book = SpreadsheetFile(handle, info, size, self.lim)
        try:
            sheet, header = book.first_sheet_with(find_header, retry_codes=HEADER_PROBLEMS)
            self.report.sheet_name = sheet.name
            self.report.header_row = header.row
            if "township" not in header.columns and "committee" not in header.columns and not self.default_committee:
                raise ImportRefused(
                    _(
                        "表中没有“镇(街)”列，无法确定调解员属于哪个调委会。请增加“县(市、区)”和“镇(街)”两列，"
                        "或在导入时选择调委会。"
                    ),
                    code="missing_columns",
                )
            if self.dry_run:
                self._rows(sheet, header)
            else:
                with transaction.atomic():
                    self._rows(sheet, header)
                    if self.report.error_count:
                        transaction.set_rollback(True)
        finally:
            book.close()
        return self.report

    def _rows(self, sheet: Sheet, header: Header) -> None:
        width = min(header.width, self.lim.max_columns)
        estimated = max(sheet.estimated_rows - header.row, 1)
        scan_limit = self.lim.max_rows * 2 + HEADER_SCAN_ROWS
        for number, values in guarded(sheet.rows(width=width)):
            if number <= header.row:
                continue
            if number > scan_limit:
                raise ImportRefused(
                    _("表格超过 %d 行，已拒绝。请删除多余的空行或拆分文件。") % scan_limit, code="too_many_rows"
                )
            if is_blank(values):
                continue
            self.report.total_rows += 1
            if self.report.total_rows > self.lim.max_rows:
                raise ImportRefused(
                    _("数据超过 %d 行的上限，请拆分文件后分批导入。") % self.lim.max_rows, code="too_many_rows"
                )
            candidate = self._validate(number, values, header)
            if candidate is not None:
                self.pending.append(candidate)
                if len(self.pending) >= self.lim.batch_size:
                    self._flush()
            if self.progress and self.report.total_rows % self.lim.progress_every == 0:
                self.progress(self.report.total_rows, max(estimated, self.report.total_rows))
        self._flush()
        if self.replace:
            self._deactivate_absent()
        if self.progress:
            self.progress(self.report.total_rows, self.report.total_rows)

    # One row ----------------------------------------------------------------------------------

    def _error(self, row: int | None, header: Header | None, key: str, message: str, code: str = "invalid") -> None:
        self.report.error_count += 1
        if self.writing:
            # Stop writing at the first mistake: the transaction will be rolled back anyway.
            self.writing = False
        if len(self.report.errors) < self.lim.max_stored_errors:
            column = header.title(key) if header else str(COLUMN_BY_KEY[key].label)
            self.report.errors.append(
                RowError(
                    row=row, column=column, message=str(message), letter=header.letter(key) if header else "", code=code
                )
            )

    def _validate(self, number: int, values: Sequence[object], header: Header) -> Candidate | None:
        def cell(key: str) -> object:
            index = header.columns.get(key)
            return values[index] if index is not None and index < len(values) else None

        checked, problems = self.checker.check(cell, header.columns)
        for key, message in problems:
            self._error(number, header, key, message)
        committee = self._committee(number, header, cell)
        id_number = str(checked.pop("id_number", ""))
        # Checked whatever else is wrong with the row: the first row of a person is remembered.
        first = committee is None or self._first_in_file(number, header, committee, id_number)
        if committee is None or problems or not first:
            return None
        checked["active"] = True
        return Candidate(row=number, committee=committee, id_number=id_number, values=checked)

    def _committee(self, number: int, header: Header, cell: Callable[[str], object]) -> CommitteeRef | None:
        ref, problem = self.committees.find(
            cell_text(cell("county")), cell_text(cell("township")), to_halfwidth(cell_text(cell("committee")))
        )
        if problem is not None:
            key, message, code = problem
            self._error(number, header, key, message, code)
        return ref

    def _first_in_file(self, number: int, header: Header, committee: CommitteeRef, id_number: str) -> bool:
        """Whether this is the first row for this person on this committee (an error names the first)."""
        if not id_number:
            return True
        key = f"{committee.ident}\x1f{id_number}"
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = number
            return True
        self._error(
            number,
            header,
            "id_number",
            _("与第%(row)d行重复：同一调委会中同一身份证号只能出现一次。") % {"row": first},
        )
        return False

    # Batches ----------------------------------------------------------------------------------

    def _existing(self, batch: list[Candidate]) -> dict[tuple[int, str], tuple]:
        """The batch's people already on their rosters: one query per batch, whatever the committees.

        Returns (committee pk, ID number) → (pk, *VALUE_FIELDS, updated_at).
        """
        committee_ids = {c.committee.pk for c in batch if c.committee.pk is not None}
        if not committee_ids:
            return {}
        new = committee_ids - self.locked
        if self.writing and new:
            # Two imports of the same roster at once would both try to create the same people.
            list(Organisation.objects.select_for_update().filter(pk__in=new).values_list("pk", flat=True))
            self.locked |= new
        rows = Mediator.objects.filter(
            committee_id__in=committee_ids, id_number__in={c.id_number for c in batch}
        ).values_list("pk", "committee_id", "id_number", *VALUE_FIELDS, "updated_at")
        return {(committee_id, id_number): (pk, *values) for pk, committee_id, id_number, *values in rows}

    def _create_committee(self, ref: CommitteeRef) -> None:
        township = self.directory.townships[ref.township_code]
        office = (
            Organisation.objects.filter(region_id=township.pk, kind=Organisation.Kind.JUDICIAL_OFFICE)
            .values_list("pk", flat=True)
            .first()
        )
        committee = Organisation.objects.create(
            name=ref.name,
            kind=Organisation.Kind.MEDIATION_COMMITTEE,
            committee_type=Organisation.CommitteeType.TOWNSHIP,
            region_id=township.pk,
            parent_id=office,
        )
        ref.pk = committee.pk

    def _note_committee(self, ref: CommitteeRef) -> dict:
        entry = self.report.committees.get(ref.ident)
        if entry is None:
            entry = {"id": ref.pk, "name": ref.name, "region_code": ref.region_code, "created": ref.is_new, "rows": 0}
            self.report.committees[ref.ident] = entry
        entry["id"] = ref.pk
        return entry

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self.writing:
            for ref in {c.committee.ident: c.committee for c in batch if c.committee.pk is None}.values():
                self._create_committee(ref)
        existing_entries = self._existing(batch)
        to_create: list[Candidate] = []
        to_update: list[Mediator] = []
        changed_fields: set[str] = set()
        replaced: list[tuple[int, str, dict]] = []
        for c in batch:
            self._note_committee(c.committee)["rows"] += 1
            if not c.committee.is_new:
                self.covered.add(c.committee.pk)
            existing = existing_entries.get((c.committee.pk, c.id_number))
            if existing is None:
                self.report.created += 1
                self.report.people.created(c.row, str(c.values["name"]), c.id_number, c.committee)
                if self.writing:
                    to_create.append(c)
                continue
            current = dict(zip(VALUE_FIELDS, existing[1:-1], strict=True))
            # A column the file does not have leaves that field as it is.
            wanted = {k: c.values[k] if k in c.values else current[k] for k in VALUE_FIELDS}
            changes = {k for k in VALUE_FIELDS if wanted[k] != current[k]}
            if not changes:
                self.report.unchanged += 1
                continue
            self.report.updated += 1
            self.report.people.updated(c.row, c.id_number, c.committee, current, wanted, changes)
            if self.writing:
                changed_fields |= changes
                to_update.append(Mediator(pk=existing[0], updated_at=self.now, **wanted))
                replaced.append((existing[0], RosterChange.Action.UPDATED, before(current, changes, existing[-1])))
        if self.writing:
            self._insert(to_create)
            if to_update:
                Mediator.objects.bulk_update(
                    to_update, [*sorted(changed_fields), "updated_at"], batch_size=self.lim.batch_size
                )
            record_changes(self.record, replaced, batch_size=self.lim.batch_size)

    def _insert(self, candidates: list[Candidate]) -> None:
        insert_entries(candidates, now=self.now, record=self.record)

    def _deactivate_absent(self) -> None:
        """Replace roster: people of the covered committees missing from the file leave it (kept, inactive)."""
        if not self.covered:
            return
        names = {entry["id"]: entry["name"] for entry in self.report.committees.values()}
        active = Mediator.objects.filter(committee_id__in=self.covered, active=True).values_list(
            "pk", "committee_id", "id_number", "name", "updated_at"
        )
        absent = []
        for pk, committee_id, id_number, name, updated_at in active.iterator(chunk_size=2000):
            if f"pk:{committee_id}\x1f{id_number}" in self.seen:
                continue
            absent.append((pk, RosterChange.Action.DEACTIVATED, before({"active": True}, ["active"], updated_at)))
            self.report.people.deactivated(name, id_number, names.get(committee_id, ""))
        self.report.deactivated = len(absent)
        if self.writing and absent:
            for start in range(0, len(absent), self.lim.batch_size):
                chunk = [pk for pk, _action, _before in absent[start : start + self.lim.batch_size]]
                Mediator.objects.filter(pk__in=chunk).update(active=False, updated_at=self.now)
            record_changes(self.record, absent, batch_size=self.lim.batch_size)


def _ref_of(committee: Organisation | None) -> CommitteeRef | None:
    if committee is None:
        return None
    return CommitteeRef(
        pk=committee.pk,
        name=committee.name,
        region_code=committee.region.code,
        active=committee.active,
        township_code=committee.region.code[:9],
    )
