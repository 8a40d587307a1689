"""The site's error handlers."""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
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
