"""Readable names of timeline actions (workflow steps and the records other apps add)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from referrals.permissions import ACTIONS

EVENT_LABELS: dict[str, object] = {
    "create": _("登记"),
    "edit": _("修改草稿"),
    "attachment": _("上传材料"),
}


def register_label(action: str, label) -> None:
    EVENT_LABELS[action] = label


def action_label(action: str) -> str:
    if action in EVENT_LABELS:
        return str(EVENT_LABELS[action])
    if action in ACTIONS:
        return str(ACTIONS[action].label)
    return action
