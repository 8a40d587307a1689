"""What a locked-out login attempt gets back (django-axes calls this; AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_minutes() -> int:
    return round(float(settings.AXES_COOLOFF_TIME) * 60)


def lockout_response(request, original_response=None, credentials=None):
    """429 for both: JSON in the API's error shape, the explanatory page for people."""
    minutes = lockout_minutes()
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": _("密码连续输错次数过多，账号已暂时锁定，请%d分钟后再试。") % minutes, "code": "locked_out"},
            status=429,
        )
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
