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


@register.inclusion_tag("forms/error_summary.html")
def error_summary(form) -> dict:
    """「请填写以下内容」 at the top of a form sent back with errors: each error in words, a field's
    linked to that field (``static/js/app.js`` scrolls to the summary and focuses the first one).
    A missing element the workflow named at its field (code ``missing``) already says what it is;
    any other error is said with its field's label."""
    items: list[tuple[str, str]] = [(str(e), "") for e in form.non_field_errors()]
    if form.is_bound:
        errors = form.errors.as_data()
        for field in form:
            for error in errors.get(field.name, []):
                for message in error.messages:
                    if field.is_hidden:
                        items.append((message, ""))
                    elif error.code == "missing":
                        items.append((message, field.auto_id))
                    else:
                        items.append((f"{field.label}：{message}", field.auto_id))
    return {"items": items}
