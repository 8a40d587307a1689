"""Rows every app relies on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """The first answer to a creating request, kept so that the same request again (a double click,
    a client's retry after a timeout) gets that answer instead of creating a second object.

    Keyed by user and the client's key (the API's ``Idempotency-Key`` header, or a page form's
    one-time ``form_token``); ``fingerprint`` tells a repeat of the same request from another
    request reusing the key. Kept 24 hours (``core/idempotency.py``).
    """

    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]
        indexes = [models.Index(fields=["user", "created_at"], name="idempotency_key_age")]


class AppendOnlyQuerySet(models.QuerySet):
    """No bulk update or delete: history rows are written once and kept."""

    def update(self, **kwargs):
        raise RuntimeError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise RuntimeError(f"{self.model.__name__} rows are append-only.")


class AccessLog(models.Model):
    """Who saw personal data, downloaded a file or exported a ledger: when, from where (read audit).

    Append-only, and kept even if the referral is gone (ids and numbers are copied, not linked).
    ``region_code`` places the entry in a supervisor's region.
    """

    class Action(models.TextChoices):
        VIEW_PERSONAL_DATA = "view_personal_data", _("查看当事人完整信息")
        LIST_PERSONAL_DATA = "list_personal_data", _("列表中查看当事人完整信息")
        DOWNLOAD_ATTACHMENT = "download_attachment", _("下载材料")
        EXPORT_LEDGER = "export_ledger", _("导出台账")
        EXPORT_ROSTER = "export_roster", _("导出花名册")
        PRINT_DOCUMENT = "print_document", _("打印文书")
        REPEAT_HINT = "repeat_hint", _("重复核查提示外单位在办")
        PARTY_LINK = "party_link", _("当事人个人链接")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("用户名"), max_length=150)
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    referral_id = models.BigIntegerField(_("案件"), null=True, blank=True, db_index=True)
    referral_number = models.CharField(_("案件编号"), max_length=32, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, db_index=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    # Written by the client (or proxies beyond ours): kept as claims, never used to decide anything.
    forwarded_for = models.CharField(_("转发链(客户端自报)"), max_length=300, blank=True)
    user_agent = models.CharField(_("浏览器(客户端自报)"), max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        # Moved from the referrals app, table and all (a rename would rewrite an append-only log).
        db_table = "referrals_accesslog"
        verbose_name = _("访问日志")
        verbose_name_plural = _("访问日志")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.referral_number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Access log entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Access log entries are append-only.")
