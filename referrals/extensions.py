"""Hooks through which a later app (mediation) adds to a referral's API and pages.

The dependency runs one way (``townships`` ← ``referrals`` ← ``mediation``): referrals never import
mediation; mediation registers here in its ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch


@dataclass(frozen=True)
class Section:
    """A key of the referral's JSON, with the prefetches that keep list pages at constant queries."""

    name: str
    prefetch: tuple[str | Prefetch, ...]
    serialize: Callable[[Any, Any, bool], Any]  # (referral, user, full personal data?) → JSON value


@dataclass(frozen=True)
class ActionHandler:
    """An action of ``POST /api/referrals/{id}/actions/<name>/`` implemented by another app."""

    serializer: type
    run: Callable[..., Any]  # (referral, *, by, **validated_data) → referral


@dataclass(frozen=True)
class Panel:
    """A part of the referral page (sessions, agreement, dossier...) rendered by another app."""

    name: str
    template: str
    context: Callable[[Any, Any], dict]  # (request, referral) → template context
    order: int = 100


SECTIONS: dict[str, Section] = {}
ACTION_HANDLERS: dict[str, ActionHandler] = {}
PANELS: dict[str, Panel] = {}
ACTION_FORMS: dict[str, tuple[type, Callable[..., Any]]] = {}


def register_section(section: Section) -> None:
    SECTIONS[section.name] = section


def register_action_handler(name: str, handler: ActionHandler) -> None:
    ACTION_HANDLERS[name] = handler


def register_panel(panel: Panel) -> None:
    PANELS[panel.name] = panel


def register_action_form(name: str, form_class: type, run: Callable[..., Any]) -> None:
    """An action's page form (the HTML twin of ``register_action_handler``)."""
    ACTION_FORMS[name] = (form_class, run)


def section_prefetches() -> list[str | Prefetch]:
    return [p for s in SECTIONS.values() for p in s.prefetch]
