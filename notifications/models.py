"""Notifications: stored first, then pushed (docs/architecture.md#core-rules).

A lost WebSocket message costs nothing but a reload: the page reads these rows again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("接收人")
    )
    # The sender's code (each app owns its kinds: ``notifications/kinds.py``).
    kind = models.CharField(_("类型"), max_length=32)
    # By id, not a foreign key: notifications may not depend on the referrals app (docs/architecture.md#layout).
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

    def kind_label(self) -> str:
        from notifications.kinds import label

        return label(self.kind)

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
