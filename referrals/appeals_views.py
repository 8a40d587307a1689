"""The 复查复核 page: the figures and the requests over the referrals the user may see, and the office
above registering a request by the number on the written reply (``referrals/appeals.py``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from referrals import appeals, appeals_api, lawyers, leader_cases, permissions
from referrals.actions import perform
from referrals.appeal_forms import AppealByNumberForm
from referrals.errors import Forbidden, InvalidInput, NotAvailable
from referrals.models import Referral
from referrals.registry import registry


def may_register(user) -> bool:
    """Whether the page offers the form: officers and reviewers of a petition office."""
    return bool(lawyers.offices_kept_by(user))


def appeal_list(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return appeal_page(request)


def appeal_page(request: HttpRequest, *, form: AppealByNumberForm | None = None, status: int = 200) -> HttpResponse:
    scope, errors, years = leader_cases.yearly_scope(request.GET, appeals.parse_scope, appeals.Scope)
    rep = appeals.report(request.user, scope)
    rows = appeals.requests_in(request.user, scope)
    if form is None and may_register(request.user):
        form = AppealByNumberForm(user=request.user, auto_id="id_appeal_%s")
    today = timezone.localdate()
    return render(
        request,
        "referrals/appeals.html",
        {
            "report": rep,
            "scope": scope,
            "errors": errors,
            "years": years,
            "columns": [(key, appeals_api.COLUMN_LABELS[key]) for key in appeals.COLUMNS],
            "table": [
                (
                    row.kind,
                    row.label,
                    [
                        (key, appeals_api.COLUMN_LABELS[key], row.figures[key], rep.list_query(row.kind, key))
                        for key in appeals.COLUMNS
                    ],
                )
                for row in rep.rows
            ],
            "replied_query": rep.list_query("replied"),
            "contested_percent": round(rep.contested_share * 100, 1) if rep.contested_share is not None else None,
            "rows": [(a, appeals.appeal_json(a, today)) for a in rows[:200]],
            "form": form,
        },
        status=status,
    )


def register_by_number(request: HttpRequest) -> HttpResponse:
    """POST: register a 复查 or 复核 request against the referral of the number typed; the page again with
    each mistake, nothing written, otherwise."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AppealByNumberForm(request.POST, user=request.user, auto_id="id_appeal_%s")
    if not may_register(request.user):
        raise Forbidden()
    if form.is_valid():
        data = dict(form.cleaned_data)
        referral = appeals.appealable_by_number(request.user, data.pop("number"))
        if referral is None:
            form.add_error("number", str(appeals.NOT_FOUND))
        elif not permissions.can(request.user, referral, "register_appeal"):
            decision = permissions.decide(request.user, referral, "register_appeal")
            form.add_error(
                "number",
                appeals.refusal(referral)
                if decision == permissions.UNAVAILABLE
                else _("本案的复查复核不由本部门办理。"),
            )
        else:
            try:
                perform(registry.action("register_appeal"), referral, by=request.user, payload=data)
            except (InvalidInput, NotAvailable) as exc:
                for field, msgs in getattr(exc, "errors", {None: [str(exc)]}).items():
                    form.add_error(field if field in form.fields else None, msgs)
            else:
                messages.success(request, _("已登记复查复核申请：%s") % referral.number)
                return redirect("referrals:detail", pk=referral.pk)
    return appeal_page(request, form=form, status=400)


def appeal_document(request: HttpRequest, pk: int, appeal: int):
    return appeals_api.serve_document(request, pk, appeal)


# --- The referral page's panel --------------------------------------------------------------


def appeals_panel(request: HttpRequest, referral: Referral) -> dict[str, Any] | None:
    """复查复核: the reply's delivery and each request with its clock and answer, with the forms of
    whoever records them. Not shown before the referral is closed, nor to others while empty."""
    from referrals.appeal_forms import AnswerAppealForm, RegisterAppealForm, ReplyForm

    user = request.user
    data = appeals.appeals_json(referral)
    bound = getattr(request, "bound_forms", {})
    forms: list[dict[str, Any]] = []
    for name, form_class in (
        ("record_reply", ReplyForm),
        ("register_appeal", RegisterAppealForm),
        ("answer_appeal", AnswerAppealForm),
    ):
        if permissions.can(user, referral, name):
            form = bound.get(name) or form_class(referral=referral, user=user, auto_id=f"id_{name}_%s")
            forms.append(
                {
                    "name": name,
                    "form": form,
                    "label": permissions.action_label(name),
                    "url": reverse("referrals:action", args=[referral.pk, name]),
                    "open": name in bound,
                }
            )
    if data is None and not forms:
        return None
    # Each form also has its button in the page's action bar.
    return {"json": data, "forms": forms, "quick": [f["name"] for f in forms]}
