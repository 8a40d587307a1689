"""Undoing an applied roster import, within 24 hours: every entry it touched back as it was.

- Entries it changed get their earlier values back (``RosterChange.before``, ``updated_at`` included,
  so that an earlier import may still be undone afterwards); entries it took off the roster are on it again.
- Entries it created are deleted, unless another record names them (a referral's lead or mediators,
  a mediation session's mediators): those are taken off the roster (不在册) instead. Deleting them
  would erase who mediated a case — the lead is protected, and the many-to-many links would
  silently go with the entry — while an entry off the roster is offered for no new case.
- Township committees it created stay: they are the township's standard committee, and empty again.

Refused, with the reason in Chinese (``UndoRefused``), when it is not an applied import, was undone
already, finished more than 24 hours ago, or when an entry it touched was changed since: by a later
import (named, to be undone first) or by hand. Who may: the person who applied it, or a roster
keeper of every committee it touched (``may_undo``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from townships.models import Mediator, Organisation, RosterChange, RosterImport
from townships.roles import may_manage_some_roster, roster_scope

UNDO_WINDOW = datetime.timedelta(hours=24)


class UndoRefused(Exception):
    """The import cannot be undone (now); ``message`` is for the user, nothing was changed."""

    def __init__(self, message: str, *, code: str) -> None:
        self.message = str(message)
        self.code = code
        super().__init__(self.message)


@dataclass
class UndoResult:
    restored: int = 0  # changed entries given their earlier values
    reactivated: int = 0  # entries it had taken off the roster, back on it
    removed: int = 0  # entries it created, deleted
    kept_inactive: int = 0  # entries it created that a case names: off the roster, not deleted

    def summary(self) -> str:
        return _(
            "已撤销导入：恢复 %(restored)d 人的原有信息，重新列入花名册 %(reactivated)d 人，"
            "删除新增的 %(removed)d 人，另有 %(kept)d 名新增人员已被案件引用，改为“不在册”。"
        ) % {
            "restored": self.restored,
            "reactivated": self.reactivated,
            "removed": self.removed,
            "kept": self.kept_inactive,
        }


def undo_deadline(record: RosterImport) -> datetime.datetime | None:
    """Until when an applied import may be undone; ``None`` for one that may not be, ever."""
    if not record.applied or record.undone_at is not None or record.finished_at is None:
        return None
    return record.finished_at + UNDO_WINDOW


def may_undo(user, record: RosterImport) -> bool:
    """Whether ``user`` is someone who may undo ``record``: its applier, or a keeper of every
    committee it touched (whether it may still be undone is ``undo_deadline``'s, and the undo's)."""
    if not may_manage_some_roster(user):
        return False
    if user.pk == record.created_by_id:
        return True
    scope = roster_scope(user)
    return scope is None or all(
        any(str(c.get("region_code", "")).startswith(code) for code in scope) for c in record.committees
    )


def undo_roster_import(record: RosterImport, *, by, now: datetime.datetime | None = None) -> UndoResult:
    """Undo an applied import (see the module). Atomic: the import row and the committees it touched
    are locked, as an import locks them, so that no import writes the same entries meanwhile.

    Raises ``PermissionDenied`` for someone ``may_undo`` refuses, ``UndoRefused`` with the reason.
    """
    now = now or timezone.now()
    if not may_undo(by, record):
        raise PermissionDenied(_("只有导入人或负责这些花名册的人员可以撤销导入。"))
    with transaction.atomic():
        record = RosterImport.objects.select_for_update().get(pk=record.pk)
        _check_open(record, now)
        committee_ids = [c["id"] for c in record.committees if c.get("id")]
        list(Organisation.objects.select_for_update().filter(pk__in=committee_ids).values_list("pk", flat=True))
        changes = list(record.entry_changes.all())
        created = set(record.created_entries.values_list("pk", flat=True))
        _check_untouched(record, changes, created)
        result = UndoResult()
        _restore(changes, result)
        _remove(created, result, now)
        record.undone_at, record.undone_by = now, by
        record.save(update_fields=["undone_at", "undone_by"])
    return result


def _check_open(record: RosterImport, now: datetime.datetime) -> None:
    if record.undone_at is not None:
        raise UndoRefused(_("这次导入已经撤销过了。"), code="undone")
    deadline = undo_deadline(record)
    if deadline is None:
        raise UndoRefused(_("只有已写入花名册的导入才能撤销。"), code="not_applied")
    if now > deadline:
        raise UndoRefused(
            _("导入已超过24小时（%s 完成），不能再撤销。如需恢复，请导入修改后的花名册。")
            % timezone.localtime(record.finished_at).strftime("%Y-%m-%d %H:%M"),
            code="too_late",
        )


def _check_untouched(record: RosterImport, changes: list[RosterChange], created: set[int]) -> None:
    """Refuse when an entry the import touched was changed since, by a later import or by hand.

    Entries of one committee are written under its lock, so a later change of the same entry has
    a larger ``RosterChange`` id than this import's; an entry it created has none of its own.
    """
    if len(changes) != record.updated + record.deactivated or len(created) != record.created:
        # Entries deleted since (their records go with them), or an import older than undo itself.
        raise UndoRefused(
            _("这次导入涉及的人员中有的已被删除，或导入时尚未记录撤销所需的信息，无法自动撤销。"), code="incomplete"
        )
    ours = {c.mediator_id: c.pk for c in changes}
    touched = set(ours) | created
    later = [
        change
        for change in RosterChange.objects.filter(mediator_id__in=touched, roster_import__undone_at__isnull=True)
        .exclude(roster_import=record)
        .select_related("roster_import")
        .order_by("pk")
        if change.pk > ours.get(change.mediator_id, 0)
    ]
    if later:
        newer = later[0].roster_import
        count = len({c.mediator_id for c in later})
        raise UndoRefused(
            _("之后的导入“%(file)s”（%(at)s）又修改了其中 %(n)d 人，不能撤销。请先撤销那次导入。")
            % {
                "file": newer.file_name,
                "at": timezone.localtime(newer.finished_at or newer.created_at).strftime("%Y-%m-%d %H:%M"),
                "n": count,
            },
            code="touched_later",
        )
    # Every entry it touched carries its write time until someone changes it.
    edited = Mediator.objects.filter(pk__in=touched).exclude(updated_at=record.started_at)
    names = list(edited.order_by("name").values_list("name", flat=True)[:3])
    if names:
        raise UndoRefused(
            _("导入后又有 %(n)d 人的信息被修改过（如 %(names)s），不能撤销。")
            % {"n": edited.count(), "names": "、".join(names)},
            code="edited_since",
        )


def _restore(changes: list[RosterChange], result: UndoResult) -> None:
    entries = Mediator.objects.in_bulk([c.mediator_id for c in changes])
    fields: set[str] = set()
    for change in changes:
        entry = entries.get(change.mediator_id)
        if entry is None:
            continue
        for key, value in change.before.items():
            setattr(entry, key, parse_datetime(value) if key == "updated_at" else value)
            fields.add(key)
        if change.action == RosterChange.Action.DEACTIVATED:
            result.reactivated += 1
        else:
            result.restored += 1
    if fields:
        Mediator.objects.bulk_update(entries.values(), sorted(fields), batch_size=2_000)


def _remove(created: set[int], result: UndoResult, now: datetime.datetime) -> None:
    named = referenced_elsewhere(created)
    result.kept_inactive = Mediator.objects.filter(pk__in=named).update(active=False, updated_at=now)
    unnamed = created - named
    Mediator.objects.filter(pk__in=unnamed).delete()
    result.removed = len(unnamed)


def referenced_elsewhere(pks: set[int]) -> set[int]:
    """The roster entries among ``pks`` that another record names.

    Found from the model's own relations (reverse foreign keys, the tables behind many-to-many
    fields included), not from a list of the apps that use rosters: townships knows none of them.
    Its own bookkeeping (``RosterChange``) does not count.
    """
    found: set[int] = set()
    if not pks:
        return found
    for relation in Mediator._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete) or not (relation.one_to_many or relation.one_to_one):
            continue
        if relation.related_model is RosterChange:
            continue
        name = relation.field.name
        manager = relation.related_model._base_manager
        found.update(manager.filter(**{f"{name}__in": pks}).values_list(name, flat=True))
    return found
