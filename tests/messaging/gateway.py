"""A fake SMS gateway for the tests: a real HTTP server on 127.0.0.1 (an ephemeral port) in a thread.

It speaks the contract of docs/sms.md: ``POST`` JSON ``{to, text, template_id, ...}`` → 200
``{"message_id": ...}``. It can be stopped (connection refused) and started again on the same port,
answer an error status (503...), or answer slowly; it records every message it accepted.
"""

from __future__ import annotations

import json
import threading
import time

from tests.messaging.local_server import JSONHandler, LocalServer


class FakeGateway(LocalServer):
    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.requests = 0
        self.status = 200
        self.delay = 0.0
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def handler(self) -> type[JSONHandler]:
        gateway = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway._lock:
                    gateway.requests += 1
                    gateway.headers.append(dict(self.headers))
                    status = gateway.status
                if gateway.delay:
                    time.sleep(gateway.delay)
                if status == 200:
                    with gateway._lock:
                        gateway.accepted.append(body)
                        answer = {"message_id": f"gw-{len(gateway.accepted)}"}
                else:
                    answer = {"error": "unavailable"}
                self.reply(status, answer)

        return Handler

    def texts_to(self, number: str) -> list[str]:
        return [m["text"] for m in self.accepted if m["to"] == number]
