"""Every referral URL and API action × every persona → the status each must get.

The expectations are written out by hand from the rules (docs/architecture.md#core-rules, issue 3 "Access"), not
computed by referrals/permissions.py: the table is the specification the module is checked against.
404 = may not see it; 403 = sees it, not theirs to do; 401 = anonymous API; 302 = anonymous page.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from referrals import assignments, workflow
from referrals.merging import merge_referral
from referrals.models import Referral
from tests.conftest import api, login
from tests.factories import committee, day, extension_consents_json
from townships.models import Organisation, Region

pytestmark = pytest.mark.django_db
PERSONAS = ["officer", "reviewer", "mediator", "other_mediator", "supervisor", "city", "outsider", "anonymous"]


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(PERSONAS)
    return dict(zip(PERSONAS, statuses, strict=True))


def bureau_submitted(story):
    p = story.p
    referral = story.draft(target=p.bureau)
    return workflow.submit_referral(referral, by=p.officer)


def suspended(story):
    referral = story.mediating()
    return workflow.suspend_referral(referral, by=story.p.mediator, reason="等待鉴定")


def overdue_submitted(story):
    """Submitted two weeks ago: past the 3 working days the receiver had to accept or return it."""
    day = timezone.localdate() - datetime.timedelta(days=14)
    with time_machine.travel(timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))), tick=False):
        return story.submitted()


def handed_down_succeeded(story):
    """A 交办件 whose mediation succeeded: its report back is due."""
    referral = story.succeeded()
    day = referral.received_on
    assignments.record_assignment(
        referral,
        by=story.p.officer,
        level="provincial",
        batch="2026年第2批",
        assigned_on=day,
        report_due_on=day + datetime.timedelta(days=60),
    )
    return referral


JOINT = "蓬江区联合人民调解委员会"


def failed_with_a_county_above(story):
    """Terminated at 环市 (升级调解 is open to it), with 蓬江区's joint committee to take it."""
    Organisation.objects.get_or_create(
        name=JOINT,
        region=Region.objects.get(code="440703"),
        defaults={"kind": Organisation.Kind.MEDIATION_COMMITTEE, "committee_type": Organisation.CommitteeType.JOINT},
    )
    return story.failed()


def escalate_body(_p) -> dict:
    return {"target": Organisation.objects.get(name=JOINT).pk, "reason": "镇街调解未果"}


def duplicate_of_a_mediating_one(story):
    """A submitted referral, and a mediating one of the same office to fold it into (the newest)."""
    story.mediating()
    return story.submitted()


def merge_body(_p) -> dict:
    return {"into": Referral.objects.filter(state="mediating").latest("pk").pk, "reason": "重复登记"}


def merged(story):
    survivor, duplicate = story.mediating(), story.submitted()
    return merge_referral(duplicate, by=story.p.officer, into=survivor, reason="重复登记")


def agreement_body(_p):
    return {"agreement": {"form": "oral", "terms": "赔偿500元", "performance_method": "现金", "performance_due": day()}}


# action, how to build the referral, body, expected per persona
def extend_body(p) -> dict:
    """延期 with every party's consent, for the referral the case has just built (the newest one)."""
    return {"days": 5, "reason": "双方同意", "consents": extension_consents_json(Referral.objects.latest("pk"))}


ACTION_CASES = [
    ("submit", "draft", lambda p: {}, row(200, 403, 404, 404, 404, 404, 404, 401)),
    (
        "accept",
        "submitted",
        lambda p: {"mediators": [p.lead.pk], "rights_explained": True},
        row(403, 403, 200, 404, 403, 403, 404, 401),
    ),
    ("decline", "submitted", lambda p: {"reason": "party_refused"}, row(403, 403, 200, 404, 403, 403, 404, 401)),
    ("dispatch", bureau_submitted, lambda p: {"target": p.huanshi.pk}, row(403, 403, 404, 404, 200, 403, 404, 401)),
    (
        "redirect",
        "declined",
        lambda p: {"target": committee("440703002").pk},
        row(200, 403, 403, 404, 403, 403, 404, 401),
    ),
    (
        "extend",
        "mediating",
        extend_body,
        row(403, 403, 200, 404, 403, 403, 404, 401),
    ),
    ("suspend", "mediating", lambda p: {"reason": "等待鉴定"}, row(403, 403, 200, 404, 403, 403, 404, 401)),
    ("resume", suspended, lambda p: {}, row(403, 403, 200, 404, 403, 403, 404, 401)),
    ("succeed", "with_session", agreement_body, row(403, 403, 200, 404, 403, 403, 404, 401)),
    (
        "fail",
        "with_session",
        lambda p: {"reason": "views_too_far_apart", "routes_explained": ["litigation"]},
        row(403, 403, 200, 404, 403, 403, 404, 401),
    ),
    (
        "extend_petition",
        "mediating",
        lambda p: {"days": 30, "reason": "案情复杂", "approved_by_name": "陈国强"},
        row(403, 200, 403, 404, 403, 403, 404, 401),
    ),
    ("close", "closable", lambda p: {"note": "同意办结"}, row(403, 200, 403, 404, 403, 403, 404, 401)),
    ("reopen", "closed", lambda p: {"reason": "回访不满意"}, row(403, 200, 403, 404, 403, 403, 404, 401)),
    # The origin office: its officer takes back what is not accepted yet; officers and reviewers urge.
    (
        "withdraw",
        "submitted",
        lambda p: {"reason": "材料有误，需补充后重新移交"},
        row(200, 403, 403, 404, 403, 403, 404, 401),
    ),
    ("urge", overdue_submitted, lambda p: {"note": "请尽快受理"}, row(200, 200, 403, 404, 403, 403, 404, 401)),
    # 合并 / 撤销合并: the origin office folds a duplicate into another of its referrals, and undoes it.
    ("merge", duplicate_of_a_mediating_one, merge_body, row(200, 200, 403, 404, 403, 403, 404, 401)),
    ("unmerge", merged, lambda p: {}, row(200, 200, 403, 404, 403, 403, 404, 401)),
    # 升级调解: the justice bureau, county or city, takes a failed mediation up a tier.
    ("escalate", failed_with_a_county_above, escalate_body, row(403, 403, 403, 404, 200, 200, 404, 401)),
    # 交办件: the origin office reports back to the bureau that handed the case down.
    (
        "report_back",
        handed_down_succeeded,
        lambda p: {"reported_on": day(), "report": "调解成功，已上报。"},
        row(200, 200, 403, 404, 403, 403, 404, 401),
    ),
]


def build(story, how):
    return how(story) if callable(how) else story.at(how)


def client_for(people, persona: str):
    return api(None if persona == "anonymous" else getattr(people, persona))


@pytest.mark.parametrize(("action", "how", "body", "expected"), ACTION_CASES, ids=[c[0] for c in ACTION_CASES])
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_action(people, story, action, how, body, expected, persona):
    referral = build(story, how)
    response = client_for(people, persona).post(
        f"/api/referrals/{referral.pk}/actions/{action}/", body(people), format="json"
    )
    assert response.status_code == expected[persona], response.json()


READ_CASES = [
    # what, state, expected
    ("detail", "draft", row(200, 200, 404, 404, 404, 404, 404, 401)),
    ("detail", "submitted", row(200, 200, 200, 404, 200, 200, 404, 401)),
    ("detail", "closed", row(200, 200, 200, 404, 200, 200, 404, 401)),
    ("timeline", "mediating", row(200, 200, 200, 404, 200, 200, 404, 401)),
]


@pytest.mark.parametrize(("what", "state", "expected"), READ_CASES, ids=[f"{c[0]}-{c[1]}" for c in READ_CASES])
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_read(people, story, what, state, expected, persona):
    referral = story.at(state)
    url = f"/api/referrals/{referral.pk}/" + ("timeline/" if what == "timeline" else "")
    assert client_for(people, persona).get(url).status_code == expected[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_edit_a_draft(people, story, persona):
    expected = row(200, 403, 404, 404, 404, 404, 404, 401)
    referral = story.draft()
    response = client_for(people, persona).patch(
        f"/api/referrals/{referral.pk}/", {"summary": "更正后的摘要"}, format="json"
    )
    assert response.status_code == expected[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_create(people, persona):
    expected = row(201, 403, 403, 403, 403, 403, 403, 401)
    body = {"received_on": day(), "category": "neighbour", "summary": "x", "claims": "y"}
    assert client_for(people, persona).post("/api/referrals/", body, format="json").status_code == expected[persona]


PAGE_CASES = [
    # url template, state, method, expected (anonymous pages redirect to the login page)
    ("/referrals/{id}/", "submitted", "get", row(200, 200, 200, 404, 200, 200, 404, 302)),
    ("/referrals/{id}/", "draft", "get", row(200, 200, 404, 404, 404, 404, 404, 302)),
    ("/referrals/{id}/edit/", "draft", "get", row(200, 403, 404, 404, 404, 404, 404, 302)),
    ("/referrals/{id}/actions/accept/", "submitted", "post", row(403, 403, 302, 404, 403, 403, 404, 302)),
    ("/referrals/{id}/actions/close/", "closable", "post", row(403, 302, 403, 404, 403, 403, 404, 302)),
    ("/referrals/{id}/actions/submit/", "draft", "post", row(302, 403, 404, 404, 404, 404, 404, 302)),
    ("/referrals/new/", "draft", "get", row(200, 403, 403, 403, 403, 403, 403, 302)),
]

PAGE_BODIES = {
    "accept": lambda p: {"lead": p.lead.pk, "rights_explained": "on"},
    "close": lambda p: {"note": "同意办结"},
    "submit": lambda p: {},
}


@pytest.mark.parametrize(
    ("url", "state", "method", "expected"), PAGE_CASES, ids=[c[0] + "-" + c[1] for c in PAGE_CASES]
)
@pytest.mark.parametrize("persona", PERSONAS)
def test_pages(people, story, url, state, method, expected, persona):
    referral = story.at(state)
    client = login(getattr(people, persona)) if persona != "anonymous" else api(None)
    target = url.format(id=referral.pk)
    if method == "get":
        response = client.get(target)
    else:
        action = target.rstrip("/").rsplit("/", 1)[1]
        response = client.post(target, PAGE_BODIES[action](people))
    assert response.status_code == expected[persona]
    if expected[persona] == 302 and persona == "anonymous":
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("state", "user", "action", "body"),
    [
        ("mediating", "mediator", "accept", {"mediators": [], "rights_explained": True}),
        ("mediating", "reviewer", "close", {"note": "x"}),
        ("closed", "mediator", "extend", {"days": 1, "reason": "x"}),
        ("submitted", "officer", "submit", {}),
        ("draft", "reviewer", "reopen", {"reason": "x"}),
    ],
)
def test_an_action_of_ones_own_role_in_the_wrong_state_is_a_conflict(people, story, state, user, action, body):
    referral = story.at(state)
    response = api(getattr(people, user)).post(f"/api/referrals/{referral.pk}/actions/{action}/", body, format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "not_available"


def test_an_unknown_action_is_not_found(people, story):
    referral = story.submitted()
    response = api(people.mediator).post(f"/api/referrals/{referral.pk}/actions/approve/", {}, format="json")
    assert response.status_code == 404


def test_lists_show_each_persona_only_what_they_may_see(people, story):
    draft = story.draft()
    local = story.submitted()
    elsewhere = workflow.submit_referral(story.draft(target=people.taicheng), by=people.officer)
    seen = {
        persona: {r["id"] for r in client_for(people, persona).get("/api/referrals/").json()["results"]}
        for persona in PERSONAS
        if persona != "anonymous"
    }
    assert seen["officer"] == seen["reviewer"] == {draft.pk, local.pk, elsewhere.pk}
    assert seen["mediator"] == {local.pk}
    assert seen["other_mediator"] == {elsewhere.pk}
    assert seen["supervisor"] == {local.pk}  # 台城 is in 台山市, not the 蓬江区 bureau's region
    assert seen["city"] == {local.pk, elsewhere.pk}  # never the draft
    assert seen["outsider"] == set()
