"""Who an import creates, changes or takes off the roster, person by person (the preview's lists).

Each list holds at most ``limit`` people (the report's counts are always whole); a change names the
field as the template does and its old and new values as a keeper reads them (labels, not codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from townships.categories import Category
from townships.models import Mediator
from townships.roster_import.columns import COLUMN_BY_KEY
from townships.roster_import.places import CommitteeRef
from townships.roster_import.rows import ROSTER_LANGUAGE
from townships.validators import mask_id_number

KINDS = ("created", "updated", "deactivated")


def shown(key: str, value: object) -> str:
    """A field's value as the roster shows it (in the roster's language, like the file it came from)."""
    with translation.override(ROSTER_LANGUAGE):
        if key == "active":
            return str(_("在册") if value else _("不在册"))
        if key == "specialities":
            labels = dict(Category.choices)
            return "、".join(str(labels.get(code, code)) for code in value or [])
        choices = {"sex": Mediator.Sex, "position": Mediator.Position, "employment": Mediator.Employment}.get(key)
        if choices is not None and value in choices.values:
            return str(choices(value).label)
        return "" if value is None else str(value)


def field_label(key: str) -> str:
    if key == "active":
        with translation.override(ROSTER_LANGUAGE):
            return str(_("在册"))
    return str(COLUMN_BY_KEY[key].label)


@dataclass
class People:
    limit: int
    lists: dict[str, list[dict]] = field(default_factory=lambda: {kind: [] for kind in KINDS})

    def _room(self, kind: str) -> bool:
        return len(self.lists[kind]) < self.limit

    @staticmethod
    def _person(row: int | None, name: str, id_number: str, committee: str) -> dict:
        # The keeper identifies people by row, name and committee; the ID number is only a hint here.
        return {"row": row, "name": name, "id_number": mask_id_number(id_number), "committee": committee}

    def created(self, row: int, name: str, id_number: str, committee: CommitteeRef) -> None:
        if self._room("created"):
            self.lists["created"].append(self._person(row, name, id_number, committee.name))

    def updated(
        self, row: int, id_number: str, committee: CommitteeRef, current: dict, wanted: dict, changes: set[str]
    ) -> None:
        if not self._room("updated"):
            return
        person = self._person(row, str(wanted["name"]), id_number, committee.name)
        person["changes"] = [
            {"field": key, "label": field_label(key), "old": shown(key, current[key]), "new": shown(key, wanted[key])}
            for key in sorted(changes, key=list(current).index)
        ]
        self.lists["updated"].append(person)

    def deactivated(self, name: str, id_number: str, committee: str) -> None:
        if self._room("deactivated"):
            self.lists["deactivated"].append(self._person(None, name, id_number, committee))

    def as_json(self) -> dict[str, list[dict]]:
        return {kind: list(entries) for kind, entries in self.lists.items()}


# A page lists this many of each kind (a phone on a township office's network, not a spreadsheet);
# the API report gives all that were kept.
PAGE_LISTED = 200


def people_lists(record, *, limit: int = PAGE_LISTED) -> list[dict]:
    """A recorded batch's lists for its page: kind, people, how many in all, how many not listed."""
    totals = {"created": record.created, "updated": record.updated, "deactivated": record.deactivated}
    lists = []
    for kind in KINDS:
        people = (record.people or {}).get(kind, [])[:limit]
        if people:
            lists.append({"kind": kind, "people": people, "total": totals[kind], "more": totals[kind] - len(people)})
    return lists
