"""The kinds of notification the mediation records send (each app owns its own kinds)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.TextChoices):
    SUPERVISION_ORDER = "supervision_order", _("督办通知")
    SUPERVISION_RESPONSE = "supervision_response", _("督办回复")
    FOLLOWUP_DISSATISFIED = "followup_dissatisfied", _("回访不满意")
    CONFIRMATION_WINDOW = "confirmation_window", _("司法确认申请期即将届满")
    CORRECTION_REQUESTED = "correction_requested", _("退回补正")
    CORRECTION_ANSWERED = "correction_answered", _("补正完成")
    CORRECTION_OVERDUE = "correction_overdue", _("补正逾期")
