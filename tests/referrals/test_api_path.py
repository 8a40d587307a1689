"""The whole path and its side paths, through the HTTP API, as the demo roles would use it."""

import datetime

import pytest

from referrals.models import Handling, Referral, TimelineEvent
from tests.conftest import api
from tests.factories import committee, day, extension_consents_json, make_user
from tests.files import pdf_upload
from townships.models import Role

pytestmark = pytest.mark.django_db


def new_referral_body(target_id: int, **overrides) -> dict:
    body = {
        "received_on": day(),
        "petition_no": "XF-2026-0001",
        "category": "neighbour",
        "summary": "两户因排水沟堵塞发生争执。",
        "claims": "请求疏通排水沟。",
        "target": target_id,
        "scope": {"ground": "civil_between_citizens", "exclusions_confirmed_absent": True},
        "parties": [
            {
                "role": "petitioner",
                "kind": "person",
                "name": "王大明",
                "id_number": "11010519491231002X",
                "phone": "13800138000",
                "address": "环市街道建设路1号",
                "consent": {"given_on": day(), "method": "written"},
            },
            {
                "role": "respondent",
                "kind": "person",
                "name": "李小红",
                "phone": "13900139000",
                "consent": {"given_on": day(), "method": "oral"},
            },
        ],
    }
    body.update(overrides)
    return body


def act(user, referral_id: int, action: str, body: dict | None = None, *, expect: int = 200):
    response = api(user).post(f"/api/referrals/{referral_id}/actions/{action}/", body or {}, format="json")
    assert response.status_code == expect, response.json()
    return response.json()


def test_draft_to_closed_through_the_api(people):
    created = api(people.officer).post("/api/referrals/", new_referral_body(people.huanshi.pk), format="json")
    assert created.status_code == 201, created.json()
    referral = created.json()
    assert referral["state"] == "draft"
    assert referral["number"].startswith(f"JM-{datetime.date.today().year}-")
    assert referral["deadline"]["kind"] == "refer"
    assert referral["available_actions"] == ["submit", "merge"]
    rid = referral["id"]

    submitted = act(people.officer, rid, "submit")
    assert submitted["state"] == "submitted"
    assert submitted["deadline"]["kind"] == "accept"
    mediator_view = api(people.mediator).get(f"/api/referrals/{rid}/").json()
    assert mediator_view["available_actions"] == ["accept", "decline"]

    accepted = act(
        people.mediator, rid, "accept", {"mediators": [people.lead.pk, people.second.pk], "rights_explained": True}
    )
    assert accepted["state"] == "mediating"
    assert accepted["mediators"][0] == {"id": people.lead.pk, "name": "黄丽华", "lead": True}
    assert accepted["deadline"]["kind"] == "mediate"

    session = api(people.mediator).post(
        f"/api/referrals/{rid}/sessions/",
        {"held_on": day(), "location": "环市街道调解室", "participants": "双方当事人", "record": "双方同意协商。"},
        format="json",
    )
    assert session.status_code == 201, session.json()

    succeeded = act(
        people.mediator,
        rid,
        "succeed",
        {
            "agreement": {
                "form": "written",
                "terms": "李小红三日内疏通排水沟。",
                "amount": "500.00",
                "performance_method": "自行疏通并支付500元",
                "performance_due": day(),
                "signed_on": day(),
            }
        },
    )
    assert succeeded["state"] == "succeeded"
    assert succeeded["agreement"]["form"] == "written"
    assert succeeded["outcome"]["result"] == "agreement"

    # The reviewer cannot close before the dossier's must-items are in.
    refused = act(people.reviewer, rid, "close", {"note": "同意办结"}, expect=400)
    assert {m["code"] for m in refused["missing"]} == {"dossier:identity_proof", "dossier:agreement"}
    for kind in ("identity_proof", "agreement"):
        upload = api(people.mediator).post(
            f"/api/referrals/{rid}/attachments/", {"kind": kind, "file": pdf_upload()}, format="multipart"
        )
        assert upload.status_code == 201, upload.json()

    closed = act(people.reviewer, rid, "close", {"note": "同意办结"})
    assert closed["state"] == "closed"
    assert closed["deadline"] is None
    timeline = api(people.officer).get(f"/api/referrals/{rid}/timeline/").json()
    assert [e["action"] for e in timeline if e["from_state"] and e["from_state"] != e["to_state"]] == [
        "submit",
        "accept",
        "succeed",
        "close",
    ]
    assert timeline[0]["action"] == "create_referral"
    assert timeline[-1]["actor"]["name"] == "李国强"


def test_a_bureau_routes_and_a_returned_referral_is_redirected(people):
    rid = api(people.officer).post("/api/referrals/", new_referral_body(people.bureau.pk), format="json").json()["id"]
    act(people.officer, rid, "submit")
    routed = act(people.supervisor, rid, "dispatch", {"target": people.huanshi.pk, "note": "属地调解"})
    assert routed["target"]["id"] == people.huanshi.pk
    assert routed["region"]["code"] == "440703006"
    declined = act(people.mediator, rid, "decline", {"reason": "party_refused", "note": "被申请人拒绝"})
    assert declined["state"] == "declined"
    assert declined["available_actions"] == []  # the mediator may still look, nothing more
    officer_view = api(people.officer).get(f"/api/referrals/{rid}/").json()
    assert set(officer_view["available_actions"]) == {"redirect", "merge"}
    other = people.taicheng.pk
    redirected = act(people.officer, rid, "redirect", {"target": other, "note": "改由台城调解"})
    assert redirected["state"] == "submitted"
    assert list(Handling.objects.filter(referral_id=rid).values_list("organisation__name", "result")) == [
        ("蓬江区司法局", "dispatched"),
        ("环市街道人民调解委员会", "declined"),
        ("台城街道人民调解委员会", "pending"),
    ]
    # The committee that returned it keeps read-only access as a past handler.
    assert api(people.mediator).get(f"/api/referrals/{rid}/").status_code == 200


def test_a_referral_returned_twice_is_ping_pong_and_the_bureau_may_route_it(people, story):
    referral = story.declined()
    baisha = committee("440703002")
    baisha_mediator = make_user(memberships=[(baisha, Role.MEDIATOR)])
    once = api(people.supervisor).get(f"/api/referrals/{referral.pk}/").json()
    assert "redirect" not in once["available_actions"]  # one return is the petition office's to handle
    act(people.officer, referral.pk, "redirect", {"target": baisha.pk})
    act(baisha_mediator, referral.pk, "decline", {"reason": "out_of_scope"})
    view = api(people.supervisor).get(f"/api/referrals/{referral.pk}/").json()
    assert view["ping_pong"] is True and view["returns_count"] == 2
    assert "redirect" in view["available_actions"]
    # Outside the bureau's county is not the bureau's to route to.
    outside = act(people.supervisor, referral.pk, "redirect", {"target": people.taicheng.pk}, expect=400)
    assert "本辖区" in outside["errors"]["target"][0]
    routed = act(people.supervisor, referral.pk, "redirect", {"target": committee("440703101").pk})
    assert routed["state"] == "submitted"
    assert routed["target"]["name"] == "棠下镇人民调解委员会"
    assert Referral.objects.get(pk=referral.pk).ping_pong  # the flag stays for the statistics


def test_extend_suspend_resume_and_reopen(people, story):
    referral = story.mediating()
    due = api(people.mediator).get(f"/api/referrals/{referral.pk}/").json()["deadline"]["due_on"]
    extended = act(
        people.mediator,
        referral.pk,
        "extend",
        {"days": 10, "reason": "双方同意继续协商", "consents": extension_consents_json(referral)},
    )
    assert extended["extension_days"] == 10
    assert extended["deadline"]["due_on"] > due
    suspended = act(people.mediator, referral.pk, "suspend", {"reason": "等待伤情鉴定"})
    assert suspended["deadline"]["paused"] is True and suspended["deadline"]["status"] is None
    assert set(suspended["available_actions"]) == {"resume", "fail"}
    resumed = act(people.mediator, referral.pk, "resume", {})
    assert resumed["deadline"]["paused"] is False
    closed = story.closed()
    reopened = act(people.reviewer, closed.pk, "reopen", {"reason": "回访不满意，再次调解"})
    assert reopened["state"] == "mediating"
    assert reopened["round"] == 2
    assert reopened["agreement"] is None  # the new round has no agreement yet


def test_every_step_writes_one_timeline_event(people, story):
    referral = story.closed()
    events = TimelineEvent.objects.filter(referral=referral).values_list("action", flat=True)
    assert list(events) == [
        "create_referral",
        "submit",
        "accept",
        "record_session",
        "succeed",
        "add_attachment",
        "close",
    ]
