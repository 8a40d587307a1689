"""The site's error handlers, and the service worker (``/sw.js``)."""

from __future__ import annotations

import hashlib
import logging
import sys

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """An /api/ path that matches no URL pattern answers the API's error body, as a missing object does.

    API clients parse JSON; an HTML page would break them and would differ from the 404 a matched
    pattern gives for an object the caller may not see.
    """
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("未找到，或您无权查看。"), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def database_unavailable(exc: BaseException | None) -> bool:
    """The database refused or dropped the connection (restarting, failing over, network), as opposed
    to a bug in a query: only then is "try again shortly" the honest answer."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    # psycopg reports a server shutting down mid-transaction as such, wrapped by Django.
    return isinstance(exc, DatabaseError) and "terminat" in str(exc).lower()


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this while handling the exception, wherever it was raised (view, middleware,
    session save), so ``sys.exc_info()`` tells a database outage from a bug."""
    if database_unavailable(sys.exc_info()[1]):
        log.warning("database unavailable while serving %s", request.path_info)
        if request.path_info.startswith("/api/"):
            response = JsonResponse(
                {"detail": _("数据库暂时无法连接，您的操作未保存，请稍后重试。"), "code": "database_unavailable"},
                status=503,
            )
        else:
            response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": _("服务器内部错误，请稍后再试或联系管理员。"), "code": "server_error"}, status=500
        )
    return defaults.server_error(request)


# The app shell the service worker keeps: what every page loads, and the icons.
SHELL = (
    "css/app.css",
    "js/app.js",
    "js/live.js",
    "js/offline.js",
    "js/calendar.js",
    "icons/icon-192.png",
    "manifest.webmanifest",
)


def service_worker(request: HttpRequest) -> HttpResponse:
    """``/sw.js``: the service worker (``templates/sw.js``), at the root so that it may serve every page.

    It keeps the app shell for a quick start and answers a page asked for without a network with a
    notice; it never stores a page (pages hold personal data). Its cache is named after the shell's
    content, so that a changed stylesheet or script replaces the stored one. Anyone may fetch it:
    the browser checks it for updates whether or not the user is signed in."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    digest = hashlib.sha256()
    urls = []
    for name in SHELL:
        urls.append(static(name))
        path = finders.find(name) or staticfiles_storage.path(name)
        with open(path, "rb") as f:
            digest.update(f.read())
    # The browser fetches the worker with its own Accept-Language, not the page's: the notice speaks
    # the language the person chose (the cookie) or else the system's, never the browser's default.
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
    if not translation.check_for_language(language):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        offline = loader.render_to_string("offline.html", request=request)
    context = {"version": digest.hexdigest()[:16], "shell": urls, "offline": offline, "static": settings.STATIC_URL}
    response = HttpResponse(
        loader.render_to_string("sw.js", context), content_type="application/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    return response
