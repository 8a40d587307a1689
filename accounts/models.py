"""API tokens: several per person (one per client), only a hash of each key kept, expiring when unused."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    # A random id: it appears in URLs (revoking), and must not let anyone count or guess tokens.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户")
    )
    name = models.CharField(
        _("名称"), max_length=100, blank=True, help_text=_("使用此令牌的客户端，例如“办公室电脑”。")
    )
    prefix = models.CharField(_("前缀"), max_length=8, help_text=_("令牌的前几个字符，用于辨认，不能用来登录。"))
    # SHA-256 of the key: keys are 160 random bits, so a fast hash is enough to make a stolen table useless.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        indexes = [models.Index(fields=["user", "expires_at"], name="apitoken_user_expires")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})" if self.name else f"{self.prefix}…"
