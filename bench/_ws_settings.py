"""Bench-only settings for the notifications what-if: the app's settings with the Redis channel
layer sized for 1,000 sockets. Not the app's configuration; ``bench.notifications`` runs the server
and the sender with it to show what the change would do.

- ``capacity``: channels-redis puts every socket of a worker process behind one Redis key and drops
  a message when that key already holds ``capacity`` (default 100) — a burst to more than 100 of a
  worker's sockets loses messages silently (logged at INFO).
- ``socket_timeout`` above channels-redis's 5 s BZPOPMIN: redis-py 8 defaults to 5 s, so an idle
  receive loop can time out on the socket and take its consumer (and its WebSocket) down.
- ``max_connections``: redis-py 8's asyncio pool holds 100 connections and refuses the 101st at once
  (MaxConnectionsError), which many sockets joining or leaving their groups at the same moment reach.
"""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, REDIS_URL

if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"] |= {
        "hosts": [{"address": REDIS_URL, "socket_timeout": 10, "max_connections": 1000}],
        "capacity": 10_000,
    }
