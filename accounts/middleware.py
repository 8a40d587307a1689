"""The idle timeout of a session counts what the person does, not what an open page does by itself."""

from __future__ import annotations

# What static/js/live.js sends with every request it makes on its own (after a push, after a reconnect).
LIVE_REFRESH_HEADER = "X-Live-Refresh"
_META_KEY = "HTTP_" + LIVE_REFRESH_HEADER.upper().replace("-", "_")


class IdleSessionMiddleware:
    """Restart the session's idle clock (``SESSION_COOKIE_AGE``) on the person's own requests only.

    Instead of ``SESSION_SAVE_EVERY_REQUEST``: with it, a page left open renewed its own session
    for ever, since every push made it fetch fragments. Requests marked by live.js, anonymous ones
    and API calls with a token (no session) save nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (
            session is not None
            and user is not None
            and user.is_authenticated
            and _META_KEY not in request.META
            and not session.is_empty()
        ):
            session.modified = True  # SessionMiddleware, outside this one, saves it with a new expiry
        return response
