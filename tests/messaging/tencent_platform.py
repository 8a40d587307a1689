"""A fake Tencent Cloud SMS platform for the tests: a real HTTP server on 127.0.0.1 in a thread,
answering the SDK's ``SendSms`` (API 3.0, version 2021-01-11) as the platform documents it.

It checks what the real platform checks first — the TC3-HMAC-SHA256 signature, computed here from
the secret key the test configured — so a backend that signed with the wrong key or sent another
action is refused (``AuthFailure.SignatureFailure``), not silently accepted. ``answer`` chooses what
a send gets: ``"Ok"``, a per-number status code (``"FailedOperation.PhoneNumberInBlacklist"``), an
API error (``"error:LimitExceeded.AppDailyLimit"``), ``"503"`` or ``"slow"``.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import threading
import time

from tests.messaging.local_server import JSONHandler, LocalServer

SECRET_ID = "AKIDfangdiaotest"
SECRET_KEY = "fangdiao-test-secret-key"
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>[\d-]+)/(?P<service>\w+)/tc3_request, "
    r"SignedHeaders=(?P<headers>[\w;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature_is_valid(method: str, path: str, headers, payload: bytes) -> bool:
    """Tencent Cloud API 3.0 signing (TC3-HMAC-SHA256), recomputed from the request as sent."""
    found = AUTHORIZATION.fullmatch(headers.get("Authorization", ""))
    if not found or found["id"] != SECRET_ID:
        return False
    signed = found["headers"].split(";")
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
    canonical = "\n".join([method, path, "", canonical_headers, found["headers"], hashlib.sha256(payload).hexdigest()])
    scope = f"{found['date']}/{found['service']}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", headers["X-TC-Timestamp"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(("TC3" + SECRET_KEY).encode(), found["date"]), found["service"]), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    day = datetime.datetime.fromtimestamp(int(headers["X-TC-Timestamp"]), datetime.UTC).strftime("%Y-%m-%d")
    return hmac.compare_digest(expected, found["signature"]) and day == found["date"]


class FakeTencentPlatform(LocalServer):
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.requests: list[dict] = []
        self.answer = "Ok"
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handler(self) -> type[JSONHandler]:
        platform = self

        class Handler(JSONHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(payload)
                with platform._lock:
                    platform.requests.append({"headers": dict(self.headers), "body": body})
                    answer = platform.answer
                if answer == "503":
                    return self.reply(503, {"message": "unavailable"})
                if answer == "slow":
                    time.sleep(3)
                request_id = f"req-{len(platform.requests)}"
                if not signature_is_valid("POST", self.path, self.headers, payload):
                    return self.error("AuthFailure.SignatureFailure", "签名验证失败", request_id)
                if self.headers.get("X-TC-Action") != "SendSms" or self.headers.get("X-TC-Version") != "2021-01-11":
                    return self.error("InvalidAction", "接口不存在", request_id)
                if answer.startswith("error:"):
                    return self.error(answer.removeprefix("error:"), "平台拒绝", request_id)
                statuses = []
                for number in body["PhoneNumberSet"]:
                    serial = f"2640:{len(platform.sent) + 1:010d}"
                    if answer == "Ok":
                        with platform._lock:
                            platform.sent.append(body | {"phone": number})
                    statuses.append(
                        {
                            "SerialNo": serial if answer == "Ok" else "",
                            "PhoneNumber": number,
                            "Fee": 1 if answer == "Ok" else 0,
                            "SessionContext": body.get("SessionContext", ""),
                            "Code": answer,
                            "Message": "send success" if answer == "Ok" else "refused",
                            "IsoCode": "CN",
                        }
                    )
                self.reply(200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}})

            def error(self, code: str, message: str, request_id: str) -> None:
                self.reply(200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})

        return Handler
