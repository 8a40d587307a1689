"""Bench-only settings for the notifications what-if: the app's settings with the Redis channel
layer sized for 1,000 sockets. ``bench.notifications`` runs the server and the sender with it.

config/settings.py now carries these values itself (with the reasons), so the what-if run should
measure the same as the main one; it stays to show when the two drift apart:

- ``capacity``: channels-redis counts it per Redis key, and all the sockets of a worker process
  share one key; the default of 100 drops messages (logged at INFO) in a burst to more of them.
- ``socket_timeout`` above channels-redis's 5 s BZPOPMIN: redis-py 8 defaults to 5 s, so an idle
  receive loop times out on the socket and takes its consumer (and its WebSocket) down.
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
