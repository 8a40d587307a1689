"""Badges and masks for referral pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.templatetags.phones import tel_link
from referrals.models import State
from townships.validators import mask_address, mask_id_number, mask_phone

register = template.Library()


@register.simple_tag
def state_badge(referral) -> str:
    return format_html('<span class="state state-{}">{}</span>', referral.state, State(referral.state).label)


@register.simple_tag
def deadline_badge(referral) -> str:
    if not referral.deadline_kind:
        return ""
    if referral.state == State.MEDIATING and referral.is_suspended:
        return format_html('<span class="deadline paused">{}</span>', _("期限中止计算"))
    status = referral.deadline_status()
    text = {"overdue": _("已超期"), "due_soon": _("即将到期"), "on_time": _("期限内")}[status]
    provisional = (
        format_html(
            '<span class="flag provisional" title="{}">{}</span>',
            _("该年度节假日安排尚未确认，按周一至周五推算"),
            _("暂定"),
        )
        if referral.deadline_provisional
        else ""
    )
    return format_html(
        '<span class="deadline {}" title="{}">{} · {} {}</span>{}',
        status,
        referral.get_deadline_kind_display(),
        text,
        referral.get_deadline_kind_display(),
        referral.due_on.strftime("%Y-%m-%d"),
        provisional,
    )


@register.filter
def masked_id(value: str, full: bool) -> str:
    return value if full else mask_id_number(value)


@register.filter
def masked_phone(value: str, full: bool) -> str:
    return value if full else mask_phone(value)


@register.filter
def phone_link(value: str, full: bool) -> str:
    """The number as a ``tel:`` link when the user sees it in full; masked, plain text."""
    return tel_link(value) if full else mask_phone(value)


@register.filter
def masked_address(value: str, full: bool) -> str:
    return value if full else mask_address(value)
