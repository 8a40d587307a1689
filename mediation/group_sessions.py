"""A combined mediation session of a 类案 group (类案合并调解): one meeting with the parties of several
member referrals, recorded as one session (人民调解记录) on each of them, all or none.

The committee that holds it records it: the referrals chosen must all be ones the user may record a
session on now (``record_session``: a mediator of the committee mediating each) and be mediated by
one committee, whose roster names the mediators. Each record is an ordinary session of its referral
(its own step, timeline event and live push); if one cannot be recorded, none is.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import error_responses
from mediation.forms import SessionFields
from mediation.models import MediationSession
from mediation.serializers import SessionSerializer
from mediation.workflow import record_session
from referrals import case_groups, permissions
from referrals.errors import Forbidden, InvalidInput
from referrals.models import CaseGroup, Referral
from townships.models import Mediator
from townships.validators import validate_plausible_date


def candidates(group: CaseGroup, user) -> list[Referral]:
    """The group's members the user may record a session on now."""
    shown, _hidden = case_groups.members(group, user)
    return [r for r in shown if permissions.can(user, r, "record_session")]


def record_group_session(
    group: CaseGroup,
    *,
    by,
    referrals: list[Referral],
    held_on: datetime.date,
    location: str,
    participants: str,
    record: str,
    mediators: list[Mediator] | None = None,
) -> list[MediationSession]:
    """One session on each of ``referrals`` (members of ``group``), all in one transaction."""
    open_to = {r.pk for r in candidates(group, by)}
    if not open_to:
        raise Forbidden(_("您现在不能为本类案的任何案件记录调解。"))
    if not referrals:
        raise InvalidInput({"referrals": [_("请选择参加合并调解的案件。")]})
    refused = [r.number for r in referrals if r.pk not in open_to]
    if refused:
        raise InvalidInput(
            {"referrals": [_("以下案件不在本类案中，或您现在不能为其记录调解：%s") % "、".join(refused)]}
        )
    if len({r.target_id for r in referrals}) > 1:
        raise InvalidInput({"referrals": [_("合并调解只能选择由同一调委会调解的案件。")]})
    with transaction.atomic():
        return [
            record_session(
                referral,
                by=by,
                held_on=held_on,
                location=location,
                participants=participants,
                record=record,
                mediators=mediators,
            )
            for referral in referrals
        ]


# --- The API ---------------------------------------------------------------------------------


class GroupSessionIn(serializers.Serializer):
    referrals = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, max_length=200, help_text="member referral ids"
    )
    held_on = serializers.DateField(validators=[validate_plausible_date])
    location = serializers.CharField(max_length=200)
    participants = serializers.CharField(max_length=1000)
    record = serializers.CharField(max_length=10000)
    mediators = serializers.PrimaryKeyRelatedField(many=True, queryset=Mediator.objects.all(), required=False)


class GroupSessions(APIView):
    """``POST /api/case-groups/{id}/sessions/``: a combined session (类案合并调解), recorded on each chosen
    member → 201 with the sessions. 403 if you may record on none of its members now; 400 naming the
    members that cannot take it (nothing recorded)."""

    @extend_schema(
        request=GroupSessionIn, responses={201: SessionSerializer(many=True), **error_responses(400, 401, 403, 404)}
    )
    def post(self, request, pk: int):
        group = case_groups.group_for(request.user, pk)
        body = GroupSessionIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data["mediators"] = data.get("mediators") or None
        ids = data.pop("referrals")
        found = {r.pk: r for r in permissions.referrals_visible_to(request.user).filter(pk__in=ids)}
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise InvalidInput({"referrals": [_("未找到您可查看的案件：%s") % "、".join(missing)]})
        sessions = record_group_session(
            group, by=request.user, referrals=[found[i] for i in dict.fromkeys(ids)], **data
        )
        return Response(SessionSerializer(sessions, many=True).data, status=status.HTTP_201_CREATED)


# --- The group page --------------------------------------------------------------------------


class GroupSessionForm(SessionFields):
    field_order = ["referrals"]

    referrals = forms.ModelMultipleChoiceField(
        label=gettext_lazy("参加合并调解的案件"), queryset=Referral.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices: list[Referral], **kwargs):
        kwargs.setdefault("auto_id", "id_group_session_%s")
        super().__init__(*args, **kwargs)
        self.fields["record"].help_text = gettext_lazy("同一份记录将分别记入所选每件案件。")
        chosen = Referral.objects.filter(pk__in=[r.pk for r in choices]).select_related("target").order_by("pk")
        self.fields["referrals"].queryset = chosen
        self.fields["referrals"].label_from_instance = lambda r: f"{r.number}（{r.target.name if r.target else ''}）"
        committees = {r.target_id for r in choices}
        self.fields["mediators"].queryset = Mediator.objects.filter(committee_id__in=committees, active=True).order_by(
            "position", "name"
        )


def panel(request: HttpRequest, group: CaseGroup) -> dict | None:
    """The combined-session form, for whoever may record a session on some member now."""
    choices = candidates(group, request.user)
    if not choices:
        return None
    bound = getattr(request, "group_session_form", None)
    return {
        "form": bound or GroupSessionForm(choices=choices),
        "url": reverse("mediation:group_session", args=[group.pk]),
        "open": bound is not None,
    }


def group_session_page(request: HttpRequest, pk: int) -> HttpResponse:
    """POST from the group page: record it, or the group page again with each mistake."""
    from referrals.case_groups_views import group_page

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    group = case_groups.group_for(request.user, pk)
    choices = candidates(group, request.user)
    if not choices:
        raise Forbidden(_("您现在不能为本类案的任何案件记录调解。"))
    form = GroupSessionForm(request.POST, choices=choices)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data["mediators"] = list(data["mediators"]) or None
        try:
            sessions = record_group_session(group, by=request.user, referrals=list(data.pop("referrals")), **data)
        except InvalidInput as exc:
            for field, found in exc.errors.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(request, _("已将合并调解记录记入 %d 件案件。") % len(sessions))
            return redirect("referrals:case_group", group.pk)
    request.group_session_form = form  # type: ignore[attr-defined]
    return group_page(request, pk, forms={"group_session": form}, status=400)
