"""A fake SMS gateway for the tests: a real HTTP server on 127.0.0.1 (an ephemeral port) in a thread.

It speaks the contract of docs/sms.md: ``POST`` JSON ``{to, text, template_id, ...}`` → 200
``{"message_id": ...}``. It can be stopped (connection refused) and started again on the same port,
answer an error status (503...), or answer slowly; it records every message it accepted.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.requests = 0
        self.status = 200
        self.delay = 0.0
        self.headers: list[dict[str, str]] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
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
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def texts_to(self, number: str) -> list[str]:
        return [m["text"] for m in self.accepted if m["to"] == number]
