"""The kinds of notification the referral workflow sends (each app owns its own kinds)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", _("收到移交案件")
    REFERRAL_ROUTED = "referral_routed", _("案件已分派")
    REFERRAL_ACCEPTED = "referral_accepted", _("案件已受理")
    REFERRAL_RETURNED = "referral_returned", _("案件被退回")
    PING_PONG = "ping_pong", _("案件反复退回")
    REFERRAL_UPDATED = "referral_updated", _("调解进展")
    REFERRAL_CONCLUDED = "referral_concluded", _("调解结束")
    REFERRAL_CLOSED = "referral_closed", _("案件已办结")
    REFERRAL_REOPENED = "referral_reopened", _("案件重新调解")
    REFERRAL_ESCALATED = "referral_escalated", _("案件升级调解")
    REFERRAL_WITHDRAWN = "referral_withdrawn", _("案件已撤回")
    REFERRAL_APPEALED = "referral_appealed", _("复查复核")
    REFERRAL_URGED = "referral_urged", _("催办")
    DEADLINE_DUE_SOON = "deadline_due_soon", _("期限即将届满")
    DEADLINE_OVERDUE = "deadline_overdue", _("案件超期")
