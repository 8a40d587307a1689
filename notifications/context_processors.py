"""The header badge's number, rendered with the page so it is right before the socket connects."""

from __future__ import annotations

import functools

from django.http import HttpRequest

from notifications.service import unread_count


def unread_notifications(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A callable: templates call it only where the number is shown, and only once per page.
    return {"unread_notifications": functools.cache(functools.partial(unread_count, user))}
