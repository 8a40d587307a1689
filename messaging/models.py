"""The outbox of messages to the parties (短信), and the numbers that asked not to get any.

A ``Message`` is written inside the workflow step that causes it (``messaging/outbox.py``), so a step
that rolls back leaves none; ``messaging/sender.py`` sends it after commit and retries it later. See
docs/sms.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from referrals.models import Party, Referral


class Message(models.Model):
    class Channel(models.TextChoices):
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败，待重试")
        GAVE_UP = "gave_up", _("已放弃")
        # From the platform's delivery receipt (messaging/receipts.py), after ``sent``.
        DELIVERED = "delivered", _("已送达")
        UNDELIVERED = "undelivered", _("未送达")

    class Template(models.TextChoices):
        REFERRAL_MADE = "referral_made", _("已移交调解")
        ACCEPTED = "accepted", _("已受理")
        AGREEMENT_REACHED = "agreement_reached", _("达成调解协议")
        MEDIATION_TERMINATED = "mediation_terminated", _("终止调解")
        PARTY_LINK = "party_link", _("个人查询链接")
        ACCESS_CODE = "access_code", _("验证码")

    # Still to be sent (by the next run of the sender whose ``next_attempt_at`` has come).
    PENDING = (Status.QUEUED, Status.FAILED)

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="party_messages")
    # A draft's parties may be edited after a withdrawal: the message stays, its party may go.
    party = models.ForeignKey(Party, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default=Channel.SMS)
    template = models.CharField(_("模板"), max_length=32, choices=Template.choices)
    text = models.TextField(_("内容"), max_length=500)
    # The placeholders' values the text was written from (messaging/texts.py ``values``): a provider
    # whose templates are registered on its platform sends these, not the text.
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    to = models.CharField(_("接收号码"), max_length=20)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), default=timezone.now)
    provider_message_id = models.CharField(_("网关消息编号"), max_length=100, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("当事人短信")
        verbose_name_plural = _("当事人短信")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sender's question: what is pending and due.
            models.Index(fields=["status", "next_attempt_at"], name="message_due"),
            # The daily cap's question: how many went to this number today.
            models.Index(fields=["to", "sent_at"], name="message_sent_to"),
            models.Index(fields=["referral", "-created_at"], name="message_referral"),
            # A delivery receipt names the platform's id.
            models.Index(fields=["provider_message_id"], name="message_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_template_display()} → {self.referral_id}"


class OptOut(models.Model):
    """A number that asked to get no more messages (退订). Kept apart from the party, whose record
    belongs to the referral: one opt-out covers every case the number appears in."""

    number = models.CharField(_("号码"), max_length=20, unique=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("退订时间"), default=timezone.now)

    class Meta:
        verbose_name = _("退订号码")
        verbose_name_plural = _("退订号码")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.number


class TextTemplate(models.Model):
    """An administrator's own wording of one kind of message, in place of the built-in one
    (``messaging/texts.py``, which also says which placeholders each may use)."""

    template = models.CharField(_("短信模板"), max_length=32, choices=Message.Template.choices, unique=True)
    text = models.CharField(_("短信内容"), max_length=200)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )

    class Meta:
        verbose_name = _("短信模板")
        verbose_name_plural = _("短信模板")
        ordering = ["template"]

    def __str__(self) -> str:
        return self.get_template_display()


class PartyLink(models.Model):
    """A party's personal link (``/p/<token>/``): one live link per party of a referral.

    The token in the URL is this row's id and ``nonce``, signed with the site's key
    (``messaging/links.py``): nothing secret is stored, the same URL can be written into every
    message, and revoking the row (or its expiry) ends it.
    """

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="party_links")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="links")
    nonce = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # After too many wrong codes the link takes no more until then (``links.LOCK_MINUTES``).
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("当事人个人链接")
        verbose_name_plural = _("当事人个人链接")
        constraints = [
            models.UniqueConstraint(
                fields=["party"], condition=Q(revoked_at__isnull=True), name="one_live_link_per_party"
            )
        ]

    def __str__(self) -> str:
        return f"link {self.pk} → party {self.party_id}"


class AccessCode(models.Model):
    """A one-time code sent by SMS to the party's number before the link shows anything.

    Only its keyed hash is stored. Valid ``links.CODE_MINUTES``; ``links.CODE_TRIES`` wrong entries end it.
    """

    link = models.ForeignKey(PartyLink, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["link", "-created_at"], name="code_of_link"),
            models.Index(fields=["ip_address", "created_at"], name="code_from_address"),
        ]
