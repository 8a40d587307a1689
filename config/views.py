"""The home page (each role's workbench, filled by the dashboard) and the site's error handlers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from referrals.dashboard import dashboard


def home(request: HttpRequest) -> HttpResponse:
    return dashboard(request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """An /api/ path that matches no URL pattern answers the API's error body, as a missing object does.

    API clients parse JSON; an HTML page would break them and would differ from the 404 a matched
    pattern gives for an object the caller may not see.
    """
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("未找到，或您无权查看。"), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": _("服务器内部错误，请稍后再试或联系管理员。"), "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
