"""Notifications: stored first, then pushed (DESIGN.md §3).

A lost WebSocket message costs nothing but a reload: the page reads these rows again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", _("收到移交案件")
    REFERRAL_ROUTED = "referral_routed", _("案件已分派")
    REFERRAL_ACCEPTED = "referral_accepted", _("案件已受理")
    REFERRAL_RETURNED = "referral_returned", _("案件被退回")
    PING_PONG = "ping_pong", _("案件反复退回")
    REFERRAL_UPDATED = "referral_updated", _("调解进展")
    REFERRAL_CONCLUDED = "referral_concluded", _("调解结束")
    REFERRAL_CLOSED = "referral_closed", _("案件已办结")
    REFERRAL_REOPENED = "referral_reopened", _("案件重新调解")
    SUPERVISION_ORDER = "supervision_order", _("督办通知")
    SUPERVISION_RESPONSE = "supervision_response", _("督办回复")
    FOLLOWUP_DISSATISFIED = "followup_dissatisfied", _("回访不满意")
    DEADLINE_DUE_SOON = "deadline_due_soon", _("期限即将届满")
    DEADLINE_OVERDUE = "deadline_overdue", _("案件超期")
    CONFIRMATION_WINDOW = "confirmation_window", _("司法确认申请期即将届满")
    IMPORT_FINISHED = "import_finished", _("花名册导入完成")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("接收人")
    )
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices)
    # By id, not a foreign key: notifications may not depend on the referrals app (DESIGN.md §2).
    referral_id = models.BigIntegerField(_("案件"), null=True, blank=True, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox"),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title

    def as_message(self) -> dict:
        return {
            "id": self.pk,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "referral": self.referral_id,
            "created_at": self.created_at.isoformat(),
        }


class EmailPreference(models.Model):
    """Per-user opt-in to receive notifications by email as well."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference")
    enabled = models.BooleanField(_("同时发送邮件"), default=False)
