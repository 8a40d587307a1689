"""``{{ number|tel_link }}``: a full phone number as a link that dials it on a phone."""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def tel_link(value: str) -> str:
    """A ``tel:`` link for a full number; nothing else (a masked number is never a link: the
    caller passes only numbers the user may see in full)."""
    if not value:
        return ""
    digits = re.sub(r"[^0-9+]", "", value)
    if len(digits) < 3 or "*" in value:
        return value
    return format_html('<a href="tel:{}" class="tel">{}</a>', digits, value)
