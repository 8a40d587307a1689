"""Everything that relies on channels-redis internals, in one module behind one setting.

Two things plain channels-redis does slowly or not at all:

- ``group_send_many``: an organisation-wide notify() is one message per member; sent one
  ``group_send`` at a time that took ~1.4 s for 1,000 members (``make bench``), batched ~0.1 s.
- ``join``: ``group_add`` does not say whether the channel was still a member, which is how a socket
  learns that Redis restarted empty and it must resync.

Both read the layer's group keys, host hashing, serializer and capacity, which are not public API, so
they are checked against the pinned channels-redis (``PINNED``) when the app starts
(``NotificationsConfig.ready``) and can be switched off with ``NOTIFY_REDIS_INTERNALS=0``: then
plain ``group_send`` / ``group_add`` are used (tests/notifications/test_fan_out.py runs both ways).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from importlib.metadata import version

from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

# The channels-redis these internals were written and tested against (requirements.txt pins it).
PINNED = "4.3.0"


def check_version() -> None:
    """At start-up: refuse to run the internals against another channels-redis than they were checked with."""
    if not settings.NOTIFY_REDIS_INTERNALS:
        return
    found = version("channels-redis")
    if found != PINNED:
        raise ImproperlyConfigured(
            f"notifications/redis_layer.py uses channels-redis {PINNED} internals, but {found} is installed: "
            "check them against it and set PINNED to it, or set NOTIFY_REDIS_INTERNALS=0 for plain group_send."
        )


def batches(layer) -> bool:
    """Whether this layer gets the batched send and the reporting join."""
    return settings.NOTIFY_REDIS_INTERNALS and isinstance(layer, RedisChannelLayer)


# The members of many groups in one command: a pipeline of 2,000 ZREMRANGEBYSCORE/ZRANGE took ~30 ms
# of redis-py's packing and parsing for 1,000 groups, this ~8 ms. Expired members are dropped
# first, as group_send does.
_MEMBERS_LUA = """
local out = {}
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, tonumber(ARGV[1]))
    out[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
end
return out
"""

# One script per Redis host for every socket process at once; the same checks as channels-redis's
# own group_send: drop expired messages, honour capacity, keep the key expiring.
_ENQUEUE_LUA = """
local now = tonumber(ARGV[#ARGV - 1])
local expiry = tonumber(ARGV[#ARGV])
local over_capacity = 0
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, math.floor(now) - expiry)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], now, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


async def group_send_many(layer: RedisChannelLayer, messages: list[tuple[str, dict]]) -> None:
    """``group_send`` for many groups: two commands per Redis host instead of four per group.

    An organisation-wide notify() is one message per member's personal group: sent one by one
    that took ~1.4 s for 1,000 members, and each worker process then popped, acknowledged and
    dispatched a Redis message per socket. Here all the groups' members are read in one script,
    and each worker process (all its sockets share one Redis key) gets a single ``bundle`` that
    says which of the messages goes to which of its channels; the consumer dispatches its own as
    if they had come one by one (``NotificationConsumer.bundle``). Who hears what is exactly what
    group_send would do: a channel gets the messages of the groups it is in, nothing else.

    Uses channels-redis internals (group keys, key of a process-local channel, host hashing,
    serializer) — checked against channels-redis 4.3; tests/notifications/test_fan_out.py runs it
    against Redis.
    """
    now = time.time()
    groups = list(dict.fromkeys(group for group, _message in messages))
    by_host: dict[int, list[str]] = defaultdict(list)
    for group in groups:
        by_host[layer.consistent_hash(group)].append(group)
    members: dict[str, list[str]] = {}
    for index, host_groups in by_host.items():
        replies = await layer.connection(index).eval(
            _MEMBERS_LUA,
            len(host_groups),
            *(layer._group_key(group) for group in host_groups),
            int(now) - layer.group_expiry,
        )
        for group, channels in zip(host_groups, replies, strict=True):
            members[group] = [c.decode() for c in channels]

    # Per Redis key (one per worker process): the messages it needs and which channel gets which.
    bundles: dict[str, dict] = {}
    for position, (group, _message) in enumerate(messages):
        for channel in members[group]:
            local = layer.non_local_name(channel) if "!" in channel else channel
            key = layer.prefix + local
            bundle = bundles.get(key)
            if bundle is None:
                bundle = bundles[key] = {
                    "index": layer.consistent_hash(local),
                    "capacity": layer.get_capacity(channel),
                    "positions": {},
                    "to": defaultdict(list),
                }
            slot = bundle["positions"].setdefault(position, len(bundle["positions"]))
            bundle["to"][channel].append(slot)

    by_index: dict[int, list[tuple[str, bytes, int]]] = defaultdict(list)
    for key, bundle in bundles.items():
        payload = {
            "type": "bundle",
            "messages": [messages[position][1] for position in bundle["positions"]],
            "to": dict(bundle["to"]),
            "__asgi_channel__": list(bundle["to"]),
        }
        by_index[bundle["index"]].append((key, layer.serialize(payload), bundle["capacity"]))
    for index, entries in by_index.items():
        keys = [key for key, _payload, _capacity in entries]
        args = [payload for _key, payload, _capacity in entries] + [capacity for *_rest, capacity in entries]
        over = await layer.connection(index).eval(_ENQUEUE_LUA, len(keys), *keys, *args, now, layer.expiry)
        if over:
            log.warning("%d of %d socket processes over channel capacity: messages dropped", over, len(keys))


async def join(layer, groups: list[str], channel: str) -> bool:
    """Join the groups (again); True if this channel was missing from any of them.

    ``group_add`` does not say whether the channel was already a member, and a member that was lost
    must be told to resync: for Redis the same two commands as channels-redis's ``group_add``, with
    ZADD's count of new members. With the internals switched off, plain ``group_add``, and a lost
    membership is only noticed when the layer's receive fails and recovers.
    """
    if batches(layer):
        missing = 0
        for group in groups:
            connection = layer.connection(layer.consistent_hash(group))
            key = layer._group_key(group)
            missing += await connection.zadd(key, {channel: time.time()})
            await connection.expire(key, layer.group_expiry)
        return missing > 0
    if isinstance(layer, RedisChannelLayer):
        for group in groups:
            await layer.group_add(group, channel)
        return False
    members = getattr(layer, "groups", None)  # the in-memory layer: {group: {channel: expiry}}
    missing = members is not None and any(channel not in members.get(group, {}) for group in groups)
    for group in groups:
        await layer.group_add(group, channel)
    return missing
