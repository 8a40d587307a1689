"""Who may do what with the mediation records: every endpoint and page × every persona.

404 for a referral the persona may not see, 403 for one they see but may not act on, 401 for an
anonymous API call and a redirect to the login page for an anonymous page. A refused request
changes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client

from mediation.models import (
    Agreement,
    Attachment,
    CorrectionRequest,
    FollowUp,
    MediationSession,
    SupervisionOrder,
    Termination,
)
from mediation.workflow import add_attachment, issue_supervision
from referrals.models import Referral
from tests.conftest import api, login
from tests.factories import day
from tests.files import pdf_upload

pytestmark = pytest.mark.django_db

PERSONAS = ("officer", "reviewer", "mediator", "other_mediator", "supervisor", "city", "outsider", "anonymous")
HIDDEN = {"other_mediator": 404, "outsider": 404}
VISIBLE = {"officer": 200, "reviewer": 200, "mediator": 200, "supervisor": 200, "city": 200, **HIDDEN}


def only(allowed: dict[str, int], refused: int = 403) -> dict[str, int]:
    """``allowed`` personas get their status, the other visible ones ``refused``, the rest 404."""
    return {p: allowed.get(p, refused) for p in ("officer", "reviewer", "mediator", "supervisor", "city")} | HIDDEN


@dataclass
class Endpoint:
    name: str
    state: str  # the referral's state for the call (Story method)
    method: str
    path: str  # formatted with pk, sid (session), aid (attachment), oid (supervision order)
    expected: dict[str, int]
    body: Callable[[object], dict] = field(default=lambda people: {})
    page: bool = False


def session_body(people) -> dict:
    return {"held_on": day(), "location": "调解室", "participants": "双方", "record": "记录。"}


def followup_body(people) -> dict:
    return {"visited_on": day(), "method": "phone", "satisfaction": "satisfied"}


def order_body(people) -> dict:
    return {"kind": "written_notice", "note": "请报告进展。", "respond_by": day()}


def upload_body(people) -> dict:
    return {"kind": "evidence", "file": pdf_upload()}


def succeed_body(people) -> dict:
    agreement = {
        "form": "oral",
        "terms": "赔偿500元。",
        "performance_method": "现金",
        "performance_due": day(),
    }
    return {"agreement": agreement}


def succeed_form(people) -> dict:
    return {"form": "oral", "terms": "赔偿500元。", "performance_method": "现金", "performance_due": day()}


def correction_body(people) -> dict:
    return {"items": ["identity_proof"], "note": "请上传双方当事人的身份证明。"}


def fail_body(people) -> dict:
    return {"reason": "views_too_far_apart", "routes_explained": ["litigation"]}


API = "/api/referrals/{pk}/"
PAGE = "/referrals/{pk}/"

ENDPOINTS = [
    Endpoint("api-sessions-list", "mediating", "get", API + "sessions/", VISIBLE),
    Endpoint("api-sessions-add", "mediating", "post", API + "sessions/", only({"mediator": 201}), session_body),
    Endpoint("api-session-edit", "mediating", "patch", API + "sessions/{sid}/", only({"mediator": 200}), session_body),
    Endpoint("api-followups-list", "succeeded", "get", API + "followups/", VISIBLE),
    Endpoint(
        "api-followups-add",
        "succeeded",
        "post",
        API + "followups/",
        only({"mediator": 201, "officer": 201, "reviewer": 201}),
        followup_body,
    ),
    Endpoint("api-supervisions-list", "mediating", "get", API + "supervisions/", VISIBLE),
    Endpoint(
        "api-supervisions-add",
        "mediating",
        "post",
        API + "supervisions/",
        only({"supervisor": 201, "city": 201}),
        order_body,
    ),
    Endpoint(
        "api-supervision-respond",
        "mediating",
        "post",
        API + "supervisions/{oid}/respond/",
        only({"mediator": 200}),
        lambda people: {"response": "已处理。"},
    ),
    Endpoint(
        "api-agreement-progress",
        "succeeded",
        "post",
        API + "agreement/progress/",
        only({"mediator": 200}),
        lambda people: {"performance": "performed"},
    ),
    Endpoint("api-attachments-list", "mediating", "get", API + "attachments/", VISIBLE),
    Endpoint(
        "api-attachments-add",
        "mediating",
        "post",
        API + "attachments/",
        only({"mediator": 201, "officer": 201, "reviewer": 201}),
        upload_body,
    ),
    Endpoint("api-dossier", "mediating", "get", API + "dossier/", VISIBLE),
    Endpoint("api-succeed", "mediating", "post", API + "actions/succeed/", only({"mediator": 200}), succeed_body),
    Endpoint("api-fail", "mediating", "post", API + "actions/fail/", only({"mediator": 200}), fail_body),
    Endpoint("print-transfer", "submitted", "get", PAGE + "print/transfer/", VISIBLE, page=True),
    Endpoint("print-acceptance", "mediating", "get", PAGE + "print/acceptance/", VISIBLE, page=True),
    Endpoint("print-agreement", "succeeded", "get", PAGE + "print/agreement/", VISIBLE, page=True),
    Endpoint("print-termination", "failed", "get", PAGE + "print/termination/", VISIBLE, page=True),
    Endpoint("print-dossier", "mediating", "get", PAGE + "print/dossier/", VISIBLE, page=True),
    # The rest of the volume (卷宗): whoever sees the referral, like every printed document.
    Endpoint("print-register", "mediating", "get", PAGE + "print/register/", VISIBLE, page=True),
    Endpoint("print-record", "mediating", "get", PAGE + "print/record/", VISIBLE, page=True),
    Endpoint("print-service", "mediating", "get", PAGE + "print/service/", VISIBLE, page=True),
    Endpoint("print-supervision", "mediating", "get", PAGE + "print/supervision/", VISIBLE, page=True),
    Endpoint("print-followup", "succeeded", "get", PAGE + "print/followup/", VISIBLE, page=True),
    Endpoint("print-cover", "mediating", "get", PAGE + "print/cover/", VISIBLE, page=True),
    Endpoint("print-contents", "mediating", "get", PAGE + "print/contents/", VISIBLE, page=True),
    Endpoint("print-back_cover", "mediating", "get", PAGE + "print/back_cover/", VISIBLE, page=True),
    Endpoint("print-volume", "mediating", "get", PAGE + "print/volume/", VISIBLE, page=True),
    Endpoint(
        "attachment-download",
        "mediating",
        "get",
        PAGE + "attachments/{aid}/",
        only({"officer": 200, "reviewer": 200, "mediator": 200}),
        page=True,
    ),
    Endpoint(
        "page-session",
        "mediating",
        "post",
        PAGE + "actions/record_session/",
        only({"mediator": 302}),
        session_body,
        True,
    ),
    Endpoint(
        "page-session-edit-form", "mediating", "get", PAGE + "sessions/{sid}/edit/", only({"mediator": 200}), page=True
    ),
    Endpoint(
        "page-session-edit",
        "mediating",
        "post",
        PAGE + "sessions/{sid}/edit/",
        only({"mediator": 302}),
        session_body,
        True,
    ),
    Endpoint(
        "page-progress",
        "succeeded",
        "post",
        PAGE + "actions/record_agreement_progress/",
        only({"mediator": 302}),
        lambda people: {"performance": "performed"},
        True,
    ),
    Endpoint(
        "page-followup",
        "succeeded",
        "post",
        PAGE + "actions/add_followup/",
        only({"mediator": 302, "officer": 302, "reviewer": 302}),
        followup_body,
        True,
    ),
    Endpoint(
        "page-supervise",
        "mediating",
        "post",
        PAGE + "actions/issue_supervision/",
        only({"supervisor": 302, "city": 302}),
        order_body,
        True,
    ),
    Endpoint(
        "page-respond",
        "mediating",
        "post",
        PAGE + "supervisions/{oid}/respond/",
        only({"mediator": 302}),
        lambda people: {"response": "已处理。"},
        True,
    ),
    Endpoint(
        "page-attach",
        "mediating",
        "post",
        PAGE + "actions/add_attachment/",
        only({"mediator": 302, "officer": 302, "reviewer": 302}),
        upload_body,
        True,
    ),
    # 退回补正: the origin office's reviewer, on a concluded referral.
    Endpoint(
        "api-request-correction",
        "succeeded",
        "post",
        API + "actions/request_correction/",
        only({"reviewer": 200}),
        correction_body,
    ),
    Endpoint(
        "page-request-correction",
        "succeeded",
        "post",
        PAGE + "actions/request_correction/",
        only({"reviewer": 302}),
        correction_body,
        True,
    ),
    Endpoint(
        "page-succeed", "mediating", "post", PAGE + "actions/succeed/", only({"mediator": 302}), succeed_form, True
    ),
    Endpoint("page-fail", "mediating", "post", PAGE + "actions/fail/", only({"mediator": 302}), fail_body, True),
]


def scene(story, people, state: str) -> dict[str, int]:
    """A referral in ``state`` with one of each record the endpoints address."""
    referral = story.with_session() if state == "mediating" else story.at(state)
    ids = {"pk": referral.pk, "sid": 0, "aid": 0, "oid": 0}
    if state == "mediating":
        ids["sid"] = MediationSession.objects.get(referral=referral).pk
        ids["aid"] = add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload()).pk
        ids["oid"] = issue_supervision(
            referral, by=people.supervisor, note="请加快进度。", respond_by=datetime.date.today()
        ).pk
    return ids


def fingerprint(pk: int) -> tuple:
    """What any of these endpoints could change."""
    referral = Referral.objects.get(pk=pk)
    return (
        referral.state,
        referral.events.count(),
        [(s.location, s.record) for s in MediationSession.objects.filter(referral_id=pk)],
        FollowUp.objects.filter(referral_id=pk).count(),
        list(SupervisionOrder.objects.filter(referral_id=pk).values_list("response", flat=True)),
        Attachment.objects.filter(referral_id=pk).count(),
        list(Agreement.objects.filter(referral_id=pk).values_list("performance", flat=True)),
        Termination.objects.filter(referral_id=pk).count(),
        CorrectionRequest.objects.filter(referral_id=pk).count(),
    )


def client_for(persona: str, people, page: bool):
    if persona == "anonymous":
        return Client() if page else api()
    user = getattr(people, persona)
    return login(user) if page else api(user)


def expected_status(endpoint: Endpoint, persona: str) -> int:
    if persona == "anonymous":
        return 302 if endpoint.page else 401
    return endpoint.expected[persona]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_access(people, story, endpoint, persona):
    ids = scene(story, people, endpoint.state)
    url = endpoint.path.format(**ids)
    before = fingerprint(ids["pk"])
    client = client_for(persona, people, endpoint.page)
    call = getattr(client, endpoint.method)
    body = endpoint.body(people)
    if endpoint.method == "get":
        response = call(url)
    elif endpoint.page:
        response = call(url, body)
    else:
        response = call(url, body, format="multipart" if "file" in body else "json")
    status = expected_status(endpoint, persona)
    assert response.status_code == status, getattr(response, "content", b"")[:300]
    if persona == "anonymous" and endpoint.page:
        assert response["Location"].startswith("/login/?next=")
    refused = status >= 400 or persona == "anonymous"
    if refused or endpoint.method == "get":
        assert fingerprint(ids["pk"]) == before
    else:
        assert fingerprint(ids["pk"]) != before
    if status >= 400 and not endpoint.page:
        assert response.json()["code"] in {"forbidden", "not_found", "not_authenticated", "error"}
