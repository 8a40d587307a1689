"""Creating requests that cannot double: the API's ``Idempotency-Key`` header and page forms'
one-time ``form_token``, both handled here, in one place of the request path.

The same key from the same user within 24 hours gets the first answer again (status, body, and the
``Location`` of a redirect), marked ``Idempotent-Replayed: true``; nothing is done a second time.
The same key with another request (method, path or body) is refused with 422. A request that is
still running when its repeat arrives (a double click) is waited for, up to ``WAIT_SECONDS``.

What is kept: API answers in full (they are what the client asked for again), and for pages only
redirects — a page with form errors is not stored, so the repeat simply runs (and errs) again.
Server errors are never stored: the client must be able to try again. Rows older than 24 hours are
removed whenever the same user stores a new one.
"""

from __future__ import annotations

import datetime
import hashlib
import time

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"
FORM_FIELD = "form_token"
MAX_KEY_LENGTH = 255
KEEP = datetime.timedelta(hours=24)
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.1
# An API answer bigger than this is not kept (none of the creating endpoints comes near it).
MAX_BODY = 1024 * 1024


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    digest.update(request.body if request.content_type != "multipart/form-data" else _multipart_digest(request))
    return digest.hexdigest()


def _multipart_digest(request: HttpRequest) -> bytes:
    # The raw body is gone once Django has parsed the upload (CSRF does so for pages): the fields
    # and each file's name, size and content stand for it.
    digest = hashlib.sha256()
    for name in sorted(request.POST):
        if name in ("csrfmiddlewaretoken", FORM_FIELD):
            continue
        for value in request.POST.getlist(name):
            digest.update(f"{name}={value}\n".encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.digest()


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _refusal(request: HttpRequest, status: int, message: str, code: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": message, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def _replay(request: HttpRequest, row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type or None)
    if row.location:
        response["Location"] = row.location
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(user, key: str, fingerprint: str) -> IdempotencyKey | None:
    """The new pending row, or None when the key is already in use (then ``_existing`` tells)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.filter(user=user, created_at__lt=now - KEEP).delete()
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        return None


def _existing(user, key: str) -> IdempotencyKey | None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = IdempotencyKey.objects.filter(user=user, key=key).first()
        if row is None or row.state == IdempotencyKey.State.DONE or time.monotonic() > deadline:
            return row
        time.sleep(POLL_SECONDS)


def _keep(request: HttpRequest, row: IdempotencyKey, response: HttpResponse) -> None:
    keepable = (
        response.status_code < 500
        and not response.streaming
        and (_is_api(request) or 300 <= response.status_code < 400)
        and len(response.content) <= MAX_BODY
    )
    if not keepable:
        row.delete()
        return
    row.state = IdempotencyKey.State.DONE
    row.status = response.status_code
    row.content_type = response.get("Content-Type", "")[:100]
    row.location = response.get("Location", "")[:2000]
    row.body = response.content if _is_api(request) else b""
    row.save(update_fields=["state", "status", "content_type", "location", "body"])


def handle(request: HttpRequest, user, key: str, get_response) -> HttpResponse:
    """Run the request once for this user and key (see the module docstring)."""
    if len(key) > MAX_KEY_LENGTH:
        return _refusal(request, 400, _("Idempotency-Key 过长（最多255个字符）。"), "invalid_idempotency_key")
    fingerprint = _fingerprint(request)
    row = _claim(user, key, fingerprint)
    if row is None:
        found = _existing(user, key)
        if found is not None and found.fingerprint != fingerprint:
            return _refusal(
                request,
                422,
                _("此 Idempotency-Key 已用于另一个请求。")
                if _is_api(request)
                else _("此表单已提交过，请刷新页面后重新填写。"),
                "idempotency_key_reused",
            )
        if found is not None and found.state == IdempotencyKey.State.DONE:
            return _replay(request, found)
        if found is not None:
            return _refusal(request, 409, _("相同的请求正在处理中，请稍后刷新查看结果。"), "request_in_progress")
        row = _claim(user, key, fingerprint)  # the first one failed and removed its row meanwhile
        if row is None:
            return _refusal(request, 409, _("相同的请求正在处理中，请稍后刷新查看结果。"), "request_in_progress")
    try:
        response = get_response(request)
    except BaseException:
        row.delete()
        raise
    _keep(request, row, response)
    return response
