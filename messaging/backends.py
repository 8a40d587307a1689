"""Where a message goes: one backend chosen by ``SMS_BACKEND`` (docs/sms.md).

- ``console`` (default): writes the message to the log and appends it to ``SMS_CONSOLE_FILE``
  (``var/sms.log``), so a developer running ``make run`` sees what the parties would get.
- ``http``: a generic HTTP gateway: ``POST SMS_HTTP_URL`` with JSON ``{to, text, template_id,
  template, params, reference}``; success is a 2xx answer whose JSON carries the gateway's message
  id (``message_id`` or ``id``). 4xx answers other than 408 and 429 are permanent (not retried); a
  timeout (``SMS_HTTP_TIMEOUT``, 5 s), a refused connection, a 5xx or a 2xx without an id are
  retried.
- ``tencent``: Tencent Cloud SMS through its official SDK (``messaging/tencent.py``, an optional
  extra: ``requirements-tencent.txt``).
- a dotted path to a class with the same ``send`` method, for another provider a city adds itself.

``send(to, text, template, params, reference)`` returns the provider's id for the message or raises
``SendFailed``. ``params`` are the values the text was written from (``messaging/texts.py``): a
platform that only sends templates registered with it (most mainland ones) is given those.

Numbers in the log and the console file are masked.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from townships.validators import mask_phone

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """The gateway did not take the message. ``permanent``: retrying cannot help (a refused number)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ConsoleBackend:
    def send(self, *, to: str, text: str, template: str, params: dict[str, str], reference: str) -> str:
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        line = f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {mask_phone(to)} [{template}] {text} ({message_id})"
        log.info("SMS %s", line)
        path = settings.SMS_CONSOLE_FILE
        if path:
            try:
                with open(path, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
            except OSError:
                log.warning("could not write %s", path, exc_info=True)
        return message_id


class HttpBackend:
    def __init__(self) -> None:
        if not settings.SMS_HTTP_URL:
            raise SendFailed("SMS_HTTP_URL is not set")
        self.url = settings.SMS_HTTP_URL

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if settings.SMS_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"
        elif settings.SMS_HTTP_USER:
            pair = f"{settings.SMS_HTTP_USER}:{settings.SMS_HTTP_PASSWORD}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers

    def send(self, *, to: str, text: str, template: str, params: dict[str, str], reference: str) -> str:
        body = {
            "to": to,
            "text": text,
            "template_id": settings.SMS_HTTP_TEMPLATE_ID,
            "template": template,
            "params": params,
            # The same for every attempt at one message: a gateway may drop a repeat it has seen.
            "reference": reference,
        }
        # The URL is the operator's setting, checked to be http(s) at start-up (config/settings.py).
        request = urllib.request.Request(  # noqa: S310
            self.url, data=json.dumps(body, ensure_ascii=False).encode(), headers=self.headers(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as response:  # noqa: S310
                raw = response.read(65536)
        except urllib.error.HTTPError as e:
            permanent = 400 <= e.code < 500 and e.code not in (408, 429)
            raise SendFailed(f"HTTP {e.code}", permanent=permanent) from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise SendFailed(f"gateway unreachable: {reason}") from None
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SendFailed("gateway answered without JSON") from None
        message_id = (answer.get("message_id") or answer.get("id")) if isinstance(answer, dict) else None
        if not message_id:
            raise SendFailed("gateway answered without a message id")
        return str(message_id)[:100]


def get_backend():
    name = settings.SMS_BACKEND
    if name == "console":
        return ConsoleBackend()
    if name == "http":
        return HttpBackend()
    if name == "tencent":
        from messaging.tencent import TencentBackend

        return TencentBackend()
    return import_string(name)()
