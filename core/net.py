"""The client's network address, as the server can know it.

Behind the production proxy (docs/deploy.md) every connection comes from the proxy, so the peer
address (``REMOTE_ADDR``) says nothing about the user. When — and only when — the peer is one of
``TRUSTED_PROXIES``, the address the proxy put into ``X-Forwarded-For`` is taken instead: the
right-most address there that is not itself a trusted proxy (anything to its left was written by
the client and may be invented). Login throttling, the read audit and rate limits all ask here.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest) -> str | None:
    """The client's address (see the module docstring); None if the server gave none."""
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _trusted(peer):
        return peer
    for hop in reversed(forwarded_for(request)):
        if not _valid(hop):
            # Not an address: a proxy of ours would not write that, so the chain is the client's.
            return peer
        if not _trusted(hop):
            return hop
    return peer


def forwarded_for(request: HttpRequest) -> list[str]:
    """The ``X-Forwarded-For`` chain as it arrived: a claim, recorded as such."""
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [hop.strip() for hop in header.split(",") if hop.strip()]
