"""``{% form_token %}``: the one-time token that keeps a double-clicked form from acting twice."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html

from core.idempotency import FORM_FIELD

register = template.Library()


@register.simple_tag
def form_token() -> str:
    """A fresh token per rendering: the server runs a POST carrying it once (``core/idempotency.py``)
    and answers a repeat with the first answer."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_FIELD, uuid.uuid4().hex)
