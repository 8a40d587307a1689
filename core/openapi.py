"""The error answers of docs/api.md as the API schema describes them (``/api/schema/``).

Every error body is ``{"detail", "code"}``; validation errors add ``errors`` (field path → messages)
and missing required elements add ``missing``. ``config/api.py`` writes these bodies; views list the
statuses they can answer with ``error_responses(...)`` next to their success response, so that the
schema names every status a client can get (schemathesis checks it: tests/security/).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class MissingElementSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="not_authenticated, not_found, forbidden, invalid, not_available, ...")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="validation errors: field path (parties.0.id_number) → messages",
    )
    missing = MissingElementSerializer(many=True, required=False, help_text="missing required elements (要件)")


MEANINGS = {
    400: "invalid input or missing required elements (nothing changed)",
    401: "not authenticated",
    403: "visible, but not this user's to do",
    404: "not found, or not visible to this user",
    409: "not available in the current state, or lost to a concurrent change",
    415: "the body is not of a media type this operation reads",
    429: "too many failed logins: locked for a while",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """``{status: the error body}`` for ``extend_schema(responses=...)``."""
    return {code: OpenApiResponse(ErrorSerializer, description=MEANINGS[code]) for code in codes}


def document_unsupported_media_type(result, generator, request, public):
    """Every operation that reads a body can answer 415: DRF refuses a body its parsers cannot read
    (a malformed multipart header included) before the view runs, so no view can leave it out.
    A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS)."""
    response = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "description": MEANINGS[415],
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("415", response)
    return result
