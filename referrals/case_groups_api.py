"""类案 groups in the API (``referrals/case_groups.py``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from referrals import case_groups, permissions
from referrals.deadlines import deadline_as_dict
from referrals.errors import InvalidInput
from referrals.models import CaseGroup, CaseGroupNote
from referrals.refs import referral_item
from referrals.serializers import DeadlineOut, OrganisationRefSerializer, ReferralItemOut
from townships.models import Organisation


class CaseGroupIn(serializers.Serializer):
    name = serializers.CharField(max_length=case_groups.NAME_MAX, help_text="类案名称")
    description = serializers.CharField(
        max_length=case_groups.DESCRIPTION_MAX, required=False, allow_blank=True, default="", help_text="基本情况"
    )
    lead_organisation = serializers.IntegerField(help_text="the leading petition office or justice bureau (牵头单位)")
    working_group = serializers.CharField(
        max_length=case_groups.WORKING_GROUP_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="the working group's members, named (工作小组成员)",
    )


class MemberIn(serializers.Serializer):
    referral = serializers.IntegerField(help_text="a referral you may see")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=case_groups.REASON_MAX, help_text="移出原因")


class NoteIn(serializers.Serializer):
    text = serializers.CharField(max_length=case_groups.NOTE_MAX, help_text="工作记录")


class CaseGroupOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    lead_organisation = OrganisationRefSerializer()
    working_group = serializers.CharField()
    size = serializers.IntegerField(help_text="referrals in the group now")
    created_at = serializers.DateTimeField()


class GroupFiguresOut(serializers.Serializer):
    cases = serializers.IntegerField(help_text="current members you may see (merged ones not counted)")
    concluded = serializers.IntegerField(help_text="调解结束, as the statistics' figure")
    succeeded = serializers.IntegerField(help_text="化解 (调解成功), as the statistics' figure")
    closed = serializers.IntegerField(help_text="已办结")
    open = serializers.IntegerField(help_text="未办结")
    overdue = serializers.IntegerField(help_text="已超期")


class CaseGroupListOut(CaseGroupOut):
    figures = GroupFiguresOut()
    hidden_members = serializers.IntegerField(help_text="members you may not see (counted, never named)")


class CaseGroupTotalsOut(GroupFiguresOut):
    groups = serializers.IntegerField(help_text="groups you may see")
    cases = serializers.IntegerField(help_text="referrals in them you may see, each once")


class CaseGroupFiguresOut(serializers.Serializer):
    summary = serializers.CharField(help_text="the figures as the bureau's report words them")
    totals = CaseGroupTotalsOut()
    generated_at = serializers.DateTimeField()


class MemberOut(ReferralItemOut):
    received_on = serializers.DateField()
    target = OrganisationRefSerializer(allow_null=True)
    deadline = DeadlineOut(allow_null=True)


class NoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    by = serializers.CharField()
    at = serializers.DateTimeField()


class CaseGroupDetailOut(CaseGroupOut):
    members = MemberOut(many=True, help_text="the members you may see, oldest first")
    hidden_members = serializers.IntegerField(help_text="members you may not see (counted, never named)")
    notes = NoteOut(many=True)
    may_manage = serializers.BooleanField()


def _group(group: CaseGroup, size: int) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "description": group.description,
        "lead_organisation": {"id": group.lead_organisation_id, "name": group.lead_organisation.name},
        "working_group": group.working_group,
        "size": size,
        "created_at": group.created_at,
    }


def note_json(note: CaseGroupNote) -> dict[str, Any]:
    return {"id": note.pk, "text": note.text, "by": note.created_by.get_full_name(), "at": note.created_at}


def detail_json(group: CaseGroup, user) -> dict[str, Any]:
    shown, hidden = case_groups.members(group, user)
    return {
        **_group(group, len(shown) + hidden),
        "members": [
            {
                **referral_item(r),
                "received_on": r.received_on,
                "target": {"id": r.target_id, "name": r.target.name} if r.target else None,
                "deadline": deadline_as_dict(r),
            }
            for r in shown
        ],
        "hidden_members": hidden,
        "notes": [note_json(n) for n in group.notes.select_related("created_by")],
        "may_manage": case_groups.manages(user, group),
    }


class CaseGroups(APIView):
    """``GET /api/case-groups/`` the groups you may see, newest first, each with its figures
    (``?referral=`` those a referral is in); ``POST`` sets one up, led by an organisation of yours → 201."""

    @extend_schema(
        parameters=[OpenApiParameter("referral", int, description="only the groups this referral is in now")],
        responses={200: CaseGroupListOut(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        rows = case_groups.report(request.user).groups
        if value := request.query_params.get("referral"):
            if not value.isdigit():
                raise InvalidInput({"referral": [_("referral 应为案件的 id（数字）。")]})
            referral = permissions.get_referral_for_user(request.user, int(value))
            wanted = {g.pk for g in case_groups.groups_of(referral, request.user)}
            rows = [row for row in rows if row.group.pk in wanted]
        return Response(
            [
                {**_group(row.group, row.group.size), "figures": row.figures, "hidden_members": row.hidden}
                for row in rows
            ]
        )

    @extend_schema(request=CaseGroupIn, responses={201: CaseGroupDetailOut, **error_responses(400, 401)})
    def post(self, request):
        body = CaseGroupIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lead = Organisation.objects.filter(pk=data.pop("lead_organisation")).first()
        group = case_groups.create_group(by=request.user, lead_organisation=lead, **data)
        return Response(detail_json(group, request.user), status=status.HTTP_201_CREATED)


class CaseGroupFigures(APIView):
    """``GET /api/case-groups/figures/``: the 类案 figures over every group you may see — groups,
    the referrals in them (each once), 调解结束, 化解, 已办结, 未办结, 已超期 — as on the home page."""

    @extend_schema(responses={200: CaseGroupFiguresOut, **error_responses(401)})
    def get(self, request):
        rep = case_groups.report(request.user)
        return Response({"summary": rep.summary, "totals": rep.totals, "generated_at": rep.generated_at})


class CaseGroupDetail(APIView):
    """``GET /api/case-groups/{id}/``: the group, its members you may see with their state and deadline,
    how many others there are, and its working notes. 404 if you may not see the group."""

    @extend_schema(responses={200: CaseGroupDetailOut, **error_responses(401, 404)})
    def get(self, request, pk: int):
        return Response(detail_json(case_groups.group_for(request.user, pk), request.user))


class CaseGroupMembers(APIView):
    """``POST /api/case-groups/{id}/members/ {"referral"}`` puts a referral in → 201 with the group.
    403 unless you manage the group and have a part in the referral; 404 a referral you may not see."""

    @extend_schema(request=MemberIn, responses={201: CaseGroupDetailOut, **error_responses(400, 401, 403, 404)})
    def post(self, request, pk: int):
        group = case_groups.group_for(request.user, pk)
        body = MemberIn(data=request.data)
        body.is_valid(raise_exception=True)
        referral = permissions.get_referral_for_user(request.user, body.validated_data["referral"])
        case_groups.join_case_group(referral, by=request.user, group=group)
        return Response(detail_json(group, request.user), status=status.HTTP_201_CREATED)


class CaseGroupMember(APIView):
    """``DELETE /api/case-groups/{id}/members/{referral}/ {"reason"}`` takes it out (kept) → 204."""

    @extend_schema(
        request=ReasonIn,
        responses={204: OpenApiResponse(description="taken out"), **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, pk: int, referral: int):
        group = case_groups.group_for(request.user, pk)
        found = permissions.get_referral_for_user(request.user, referral)
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        case_groups.leave_case_group(found, by=request.user, group=group, reason=body.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseGroupNotes(APIView):
    """``POST /api/case-groups/{id}/notes/ {"text"}`` adds a working note → 201; its managers only (403)."""

    @extend_schema(request=NoteIn, responses={201: NoteOut, **error_responses(400, 401, 403, 404)})
    def post(self, request, pk: int):
        group = case_groups.group_for(request.user, pk)
        body = NoteIn(data=request.data)
        body.is_valid(raise_exception=True)
        note = case_groups.add_note(group, by=request.user, text=body.validated_data["text"])
        return Response(note_json(note), status=status.HTTP_201_CREATED)
