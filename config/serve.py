"""``python -m config.serve``: uvicorn's own command line (the same options as ``python -m uvicorn``),
with one correction for serving with several workers.

With ``--workers`` above 1 (or ``--reload``) uvicorn binds the listening socket itself, as a socket
of protocol 0, and asyncio turns Nagle's algorithm off only for accepted sockets it sees as TCP
(IPPROTO_TCP). Every answer on a kept-alive connection then waited for the client's delayed ACK,
~40 ms on Linux (uvicorn issue #3149, open): measured here with 2 workers, a small POST 4 → 48 ms,
an accept 65 → 104 ms. TCP_NODELAY set on the listening socket is inherited by every connection
accepted from it, whatever asyncio decides.
"""

from __future__ import annotations

import socket

import uvicorn.config
from uvicorn.main import main

_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def patch() -> None:
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]


if __name__ == "__main__":
    patch()
    main(prog_name="python -m config.serve")
