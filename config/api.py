"""API conventions shared by every app: the error body of docs/api.md."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


class Pagination(PageNumberPagination):
    """Small reference lists (organisations, rosters): ``{"results", "next", "previous"}``."""

    page_size = 100
    max_page_size = 500
    page_size_query_param = "page_size"

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
            },
        }


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("此操作在当前状态下不可用，或已被他人抢先处理。")
    default_code = "conflict"


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as dotted paths: ``{"parties.0.id_number": ["..."]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = key if not prefix else (prefix if key == "non_field_errors" else f"{prefix}.{key}")
            for path, messages in _field_errors(value, name).items():
                out.setdefault(path, []).extend(messages)
        return out
    if isinstance(detail, list) and any(isinstance(v, dict | list) for v in detail):
        out = {}
        for index, value in enumerate(detail):
            if value:
                for path, messages in _field_errors(value, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(path, []).extend(messages)
        return out
    return {prefix or "non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for v in detail.values() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for v in detail for m in _flatten(v)]
    return [str(detail)]


def exception_handler(exc, context):
    """Every error answers ``{"detail", "code", ...}``; validation errors add ``errors``."""
    if isinstance(exc, DomainError):
        # Missing elements (400 + "missing"), Forbidden (403), NotAvailable (409), InvalidInput (400 + "errors").
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到，或您无权查看。"))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or _("您无权执行此操作。"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first = next(iter(errors.values()), [""])
        body = {
            "detail": _("提交的内容有误：%s") % (first[0] if first else ""),
            "code": "invalid",
            "errors": errors,
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=response.headers)
    codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
    code = codes if isinstance(codes, str) else "error"
    body = {
        "detail": str(exc.detail) if not isinstance(exc.detail, dict | list) else _flatten(exc.detail)[0],
        "code": code,
    }
    extra = getattr(exc, "extra", None)
    if extra:
        body.update(extra)
    response.data = body
    return response
