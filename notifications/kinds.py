"""Notification kinds are their senders': each app keeps its own ``TextChoices`` and hands it here once
(``register``, from its ``ready()``), so the centre can name a kind without this app knowing its
callers' subjects."""

from __future__ import annotations

from django.db.models import TextChoices

_LABELS: dict[str, object] = {}


def register(kinds: type[TextChoices]) -> None:
    for value, label in kinds.choices:
        _LABELS[value] = label


def label(kind: str) -> str:
    """The kind's name in the user's language; the code itself for a kind nobody registered."""
    return str(_LABELS.get(kind, kind))
