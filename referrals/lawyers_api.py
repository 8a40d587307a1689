"""Lawyers in petition work in the API (``referrals/lawyers.py``): the roster, the consultations and
their figures (批次, 人次)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from referrals import lawyers, permissions
from referrals.lawyer_import import import_lawyers
from referrals.models import Lawyer
from referrals.serializers import read_query


class LawyerIn(serializers.Serializer):
    office = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="the petition office; needed if you keep several"
    )
    name = serializers.CharField(max_length=50)
    kind = serializers.ChoiceField(choices=Lawyer.Kind.choices, default=Lawyer.Kind.LAWYER)
    firm = serializers.CharField(max_length=100, help_text="执业机构 (law firm)")
    licence_no = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="执业证号: 17 digits"
    )
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class LawyerPatch(serializers.Serializer):
    active = serializers.BooleanField(help_text="false: off the roster (kept); true: back on it")


class OfficeRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LawyerOut(serializers.Serializer):
    id = serializers.IntegerField()
    office = OfficeRef()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Lawyer.Kind.choices)
    kind_label = serializers.CharField()
    firm = serializers.CharField()
    licence_no = serializers.CharField()
    mobile = serializers.CharField(help_text="masked (138****5678) for supervisors; full for the office")
    active = serializers.BooleanField()


def _full(user, lawyer: Lawyer) -> bool:
    return user.is_superuser or lawyers.keeps_office(user, lawyer.office_id)


class LawyerList(APIView):
    """``GET /api/lawyers/`` the rosters the user may see (``?active=true|false``); ``POST`` puts a
    lawyer on the roster of the caller's office (201; 403 not an officer or reviewer of a petition
    office; 400 naming each mistake, nothing written)."""

    @extend_schema(
        parameters=[OpenApiParameter("active", bool)],
        responses={200: LawyerOut(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        qs = lawyers.lawyers_visible_to(request.user)
        active = request.query_params.get("active", "").strip().lower()
        if active in ("true", "1"):
            qs = qs.filter(active=True)
        elif active in ("false", "0"):
            qs = qs.filter(active=False)
        elif active:
            raise serializers.ValidationError({"active": ["应为 true 或 false。"]})
        return Response([lawyers.lawyer_json(x, full=_full(request.user, x)) for x in qs])

    @extend_schema(request=LawyerIn, responses={201: LawyerOut, **error_responses(400, 401, 403)})
    def post(self, request):
        body = LawyerIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        office = lawyers.office_for(request.user, data.pop("office"))
        lawyer = lawyers.add_lawyer(by=request.user, office=office, **data)
        return Response(lawyers.lawyer_json(lawyer), status=status.HTTP_201_CREATED)


class LawyerImportIn(serializers.Serializer):
    office = serializers.IntegerField(required=False, allow_null=True, default=None)
    file = serializers.FileField(
        help_text="xlsx, xls, ods or csv with 姓名 and 执业机构 columns (类别, 执业证号, 手机号码 optional)"
    )


class LawyerImport(APIView):
    """``POST /api/lawyers/import/`` (multipart ``file``, ``office`` if several) puts every lawyer of the
    spreadsheet on the office's roster → 201 ``{added, unchanged}``; or, naming each mistake by row and
    column under ``errors.file``, none (400). Lawyers already on the roster are left as they are."""

    @extend_schema(
        request={"multipart/form-data": LawyerImportIn},
        responses={
            201: inline_serializer(
                "LawyerImportOut", {"added": serializers.IntegerField(), "unchanged": serializers.IntegerField()}
            ),
            **error_responses(400, 401, 403),
        },
    )
    def post(self, request):
        body = LawyerImportIn(data=request.data)
        body.is_valid(raise_exception=True)
        office = lawyers.office_for(request.user, body.validated_data["office"])
        result = import_lawyers(by=request.user, office=office, upload=body.validated_data["file"])
        return Response({"added": result.added, "unchanged": result.unchanged}, status=status.HTTP_201_CREATED)


class LawyerDetail(APIView):
    """``PATCH /api/lawyers/{id}/`` ``{"active": false}`` takes a lawyer off the roster (kept), ``true``
    puts them back. 404 not visible; 403 not the office's officer or reviewer."""

    @extend_schema(request=LawyerPatch, responses={200: LawyerOut, **error_responses(400, 401, 403, 404)})
    def patch(self, request, pk: int):
        lawyer = lawyers.lawyer_for(request.user, pk)
        body = LawyerPatch(data=request.data)
        body.is_valid(raise_exception=True)
        lawyer = lawyers.set_active(lawyer, by=request.user, active=body.validated_data["active"])
        return Response(lawyers.lawyer_json(lawyer))


class ConsultationIn(serializers.Serializer):
    lawyer = serializers.IntegerField(help_text="a lawyer on the roster of an office you keep")
    held_on = serializers.DateField()
    persons = serializers.IntegerField(help_text=f"人次: 1–{lawyers.PERSONS_MAX}")
    topic = serializers.CharField(max_length=200, help_text="咨询事项")
    referral = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="a referral your office registered (optional)"
    )


class ConsultationOut(serializers.Serializer):
    id = serializers.IntegerField()
    office = OfficeRef()
    lawyer = serializers.DictField()
    held_on = serializers.DateField()
    persons = serializers.IntegerField()
    topic = serializers.CharField()
    referral = serializers.DictField(allow_null=True)


PERIOD = [
    OpenApiParameter("from", str, description="first consultation day (YYYY-MM-DD); default 1 January"),
    OpenApiParameter("to", str, description="last consultation day; default today"),
]


class ConsultationList(APIView):
    """``GET /api/consultations/?from=&to=`` the consultations the user may see, newest first;
    ``POST`` records one (201). 404 a lawyer or referral not visible; 403 not the office's to keep;
    400 naming each mistake, nothing written."""

    @extend_schema(parameters=PERIOD, responses={200: ConsultationOut(many=True), **error_responses(400, 401)})
    def get(self, request):
        p = read_query(lawyers.parse_period, request)
        qs = lawyers.consultations_visible_to(request.user).filter(held_on__gte=p.date_from, held_on__lte=p.date_to)
        rows = list(qs[:1000])
        shown = lawyers.shown_referrals(request.user, rows)
        return Response([lawyers.consultation_json(c, shown) for c in rows])

    @extend_schema(request=ConsultationIn, responses={201: ConsultationOut, **error_responses(400, 401, 403, 404)})
    def post(self, request):
        body = ConsultationIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lawyer = lawyers.lawyer_for(request.user, data["lawyer"])
        referral = None
        if data["referral"] is not None:
            referral = permissions.get_referral_for_user(request.user, data["referral"])
        c = lawyers.record_consultation(
            by=request.user,
            lawyer=lawyer,
            held_on=data["held_on"],
            persons=data["persons"],
            topic=data["topic"],
            referral=referral,
        )
        return Response(lawyers.consultation_json(c, {c.referral_id}), status=status.HTTP_201_CREATED)


class LawyerFiguresOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    firm = serializers.CharField()
    office = serializers.CharField()
    batches = serializers.IntegerField(help_text="批次: consultations")
    persons = serializers.IntegerField(help_text="人次: persons advised")


class ConsultationFiguresOut(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    summary = serializers.CharField()
    batches = serializers.IntegerField()
    persons = serializers.IntegerField()
    lawyers = LawyerFiguresOut(many=True)


class ConsultationFigures(APIView):
    """``GET /api/consultations/figures/?from=&to=`` → 批次 and 人次 per lawyer and in total."""

    @extend_schema(parameters=PERIOD, responses={200: ConsultationFiguresOut, **error_responses(400, 401)})
    def get(self, request):
        f = lawyers.figures(request.user, read_query(lawyers.parse_period, request))
        return Response(
            {
                "date_from": f.period.date_from,
                "date_to": f.period.date_to,
                "summary": f.summary,
                "batches": f.batches,
                "persons": f.persons,
                "lawyers": f.lawyers,
            }
        )
