"""Request-path safeguards that hold for every view of every app."""

from __future__ import annotations

import json
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from core import idempotency

# NUL and lone UTF-16 surrogates: valid in a Python str, refused by PostgreSQL's text type (and by
# psycopg's encoder), so anything carrying them must stop at the door rather than as a 500 inside.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The same in a JSON body's escapes: only then is the body worth parsing here.
UNSTORABLE_ESCAPE = re.compile(rb"\x00|\\u0000|\\u[dD][89abAB]|\\u[dD][c-fC-F]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class RejectUnstorableTextMiddleware:
    """A NUL byte (or a lone surrogate) anywhere in the path, the query, a form field or a JSON body
    is a 400 with a clear message, before any view runs. Uploaded files are left alone: binary
    content is theirs to have."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._unstorable(request):
            message = _("请求中含有无法保存的字符（如空字符 \\0），请删除后重试。")
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {"detail": message, "code": "invalid_characters"},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return render(request, "error.html", {"status": 400, "message": message}, status=400)
        return self.get_response(request)

    def _unstorable(self, request: HttpRequest) -> bool:
        if UNSTORABLE.search(request.path_info):
            return True
        if any(UNSTORABLE.search(s) for key, values in request.GET.lists() for s in (key, *values)):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any(UNSTORABLE.search(s) for key, values in request.POST.lists() for s in (key, *values))
        if request.content_type.endswith("json"):
            try:
                body = request.body
            except Exception:  # too big: the view refuses it with its own message
                return False
            if not UNSTORABLE_ESCAPE.search(body):
                return False
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return False  # not JSON at all: the view says so
            return any(UNSTORABLE.search(s) for s in _strings(data))
        return False


class NoStoreMiddleware:
    """Pages and API answers may carry personal data: no browser or proxy cache may keep any of them.
    (Static files are served before this runs, by WhiteNoise, with their own long cache headers.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            patch_cache_control(response, no_store=True, private=True)
        return response


def _api_user(request: HttpRequest):
    """Who an API request acts for, by the API's own authenticators (a token is invisible to Django's
    middleware); None when nobody — the view then answers 401 itself."""
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    authenticators = [
        cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES if not issubclass(cls, SessionAuthentication)
    ]
    try:
        user = Request(request, authenticators=authenticators).user
    except Exception:  # a bad or revoked token: the view answers it
        return None
    return user if user.is_authenticated else None


class IdempotencyMiddleware:
    """POSTs carrying an ``Idempotency-Key`` header (API) or a ``form_token`` field (page forms) run
    once per user and key (``core/idempotency.py``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self.get_response(request)
        key = request.META.get(idempotency.HEADER, "").strip()
        if not key and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            key = request.POST.get(idempotency.FORM_FIELD, "").strip()
        if not key:
            return self.get_response(request)
        user = request.user if request.user.is_authenticated else None
        if user is None and request.path_info.startswith("/api/"):
            user = _api_user(request)
        if user is None:
            return self.get_response(request)
        return idempotency.handle(request, user, key, self.get_response)
