"""ASGI entry point: HTTP (Django) and WebSocket (Channels), plus the embedded reminder loop."""

from __future__ import annotations

import asyncio
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from config.startup import settle  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

log = logging.getLogger("fangdiao.reminders")

router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The consumer checks the Origin itself: API clients without one authenticate by token.
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
settle()


async def _reminder_loop() -> None:
    """Embedded mode: the process holding the sockets runs the sweep, so the in-memory layer reaches them."""
    from referrals.reminders import run_sweeps

    while True:
        try:
            # database_sync_to_async: like a request, the sweep's thread gives its connection back
            # when done; otherwise each worker thread would keep one open (and pooled) for ever.
            await database_sync_to_async(run_sweeps, thread_sensitive=False)()
        except Exception:
            log.exception("reminder sweep failed")
        await asyncio.sleep(settings.REMINDER_INTERVAL_SECONDS)


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        task = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if settings.REMINDER_LOOP_IN_SERVER:
                    task = asyncio.create_task(_reminder_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if task is not None:
                    task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return
    return await router(scope, receive, send)
