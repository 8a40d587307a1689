"""Lawyers in petition work (``referrals/lawyers.py``): the petition office's roster of lawyers and
legal advisers, the consultations they give (one 批 each, its persons 人次), the figures per lawyer and
in total over what the reader may see, and a lawyer taking part in a mediation session."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from mediation.models import MediationSession
from referrals import lawyers
from referrals.models import Consultation, Lawyer, TimelineEvent
from tests import factories as f
from tests.conftest import api, login
from tests.factories import today
from tests.referrals.test_exports import ledger, records
from townships.models import Role

pytestmark = pytest.mark.django_db

TAN = {"name": "谭志远", "kind": "lawyer", "firm": "广东五邑律师事务所", "licence_no": "14407201010123456"}
OU = {"name": "区慧敏", "kind": "lawyer", "firm": "广东江门侨乡律师事务所", "mobile": "13802255678"}


def add(user, data: dict):
    return api(user).post("/api/lawyers/", data, format="json")


def consult(user, lawyer_id: int, **extra):
    body = {"lawyer": lawyer_id, "held_on": today().isoformat(), "persons": 3, "topic": "土地承包纠纷", **extra}
    return api(user).post("/api/consultations/", body, format="json")


@pytest.fixture
def roster(people):
    tan = lawyers.add_lawyer(by=people.officer, office=people.petition_office, **TAN)
    ou = lawyers.add_lawyer(by=people.reviewer, office=people.petition_office, **OU)
    return tan, ou


def test_the_office_keeps_its_roster(people):
    response = add(people.officer, TAN)
    assert response.status_code == 201, response.json()
    got = response.json()
    assert got["name"] == "谭志远" and got["kind_label"] == "律师" and got["active"] is True
    assert got["office"]["id"] == people.petition_office.pk
    # Twice the same: refused. Not an office keeper: 403.
    again = add(people.reviewer, TAN)
    assert again.status_code == 400 and "已在本单位律师名册中" in again.json()["errors"]["name"][0]
    for persona in ("mediator", "supervisor", "city", "outsider"):
        assert add(getattr(people, persona), OU).status_code == 403, persona
    assert Lawyer.objects.count() == 1
    # Off the roster and back: kept throughout.
    pk = got["id"]
    off = api(people.reviewer).patch(f"/api/lawyers/{pk}/", {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False
    assert api(people.supervisor).patch(f"/api/lawyers/{pk}/", {"active": True}, format="json").status_code == 403
    assert api(people.other_mediator).patch(f"/api/lawyers/{pk}/", {"active": True}, format="json").status_code == 404
    assert api(people.officer).patch(f"/api/lawyers/{pk}/", {"active": True}, format="json").json()["active"] is True


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "不能为空"),
        ({"name": "=1+1"}, "name", "不能以"),
        ({"firm": "@x"}, "firm", "执业机构"),
        ({"licence_no": "1234"}, "licence_no", "17位数字"),
        ({"mobile": "12345"}, "mobile", "11位数字"),
    ],
)
def test_bad_lawyers_are_refused_naming_the_field(people, change, field, message):
    response = add(people.officer, {**TAN, **change})
    assert response.status_code == 400, response.content
    assert message in response.json()["errors"][field][0]
    assert not Lawyer.objects.exists()


def test_who_sees_the_roster_and_the_mobile(people, roster):
    names = {
        p: {x["name"] for x in api(getattr(people, p)).get("/api/lawyers/").json()}
        for p in ("officer", "supervisor", "city")
    }
    assert names == {"officer": {"谭志远", "区慧敏"}, "supervisor": {"谭志远", "区慧敏"}, "city": {"谭志远", "区慧敏"}}
    # The committee and the other county's people see no roster.
    for persona in ("mediator", "other_mediator", "outsider"):
        assert api(getattr(people, persona)).get("/api/lawyers/").json() == [], persona
    shown = {x["name"]: x["mobile"] for x in api(people.supervisor).get("/api/lawyers/").json()}
    assert shown["区慧敏"] == "138****5678"
    assert {x["name"]: x["mobile"] for x in api(people.officer).get("/api/lawyers/").json()}["区慧敏"] == "13802255678"


def test_a_consultation_is_recorded_and_with_a_referral_on_its_timeline(people, story, roster):
    tan, _ou = roster
    assert consult(people.officer, tan.pk).status_code == 201
    referral = story.mediating()
    linked = consult(people.reviewer, tan.pk, referral=referral.pk, persons=2)
    assert linked.status_code == 201, linked.json()
    assert linked.json()["referral"] == {"id": referral.pk, "number": referral.number}
    [event] = TimelineEvent.objects.filter(referral=referral, action="record_consultation")
    assert "谭志远" in event.note and "2人" in event.note and event.get_action_label() == "法律咨询"
    # Not the office's to keep: 403; a referral the user cannot see: 404; nothing written.
    assert consult(people.mediator, tan.pk).status_code == 404  # the committee cannot see the roster
    assert consult(people.supervisor, tan.pk).status_code == 403
    hidden = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi)
    assert consult(people.other_mediator, tan.pk, referral=hidden.pk).status_code == 404
    assert Consultation.objects.count() == 2


def test_bad_consultations_write_nothing(people, story, roster):
    tan, _ou = roster
    cases = [
        ({"persons": 0}, "persons", "1 至 99"),
        ({"persons": 100}, "persons", "1 至 99"),
        ({"topic": "  "}, "topic", ""),
        ({"topic": "=HYPERLINK()"}, "topic", "不能以"),
        ({"held_on": (today() + datetime.timedelta(days=1)).isoformat()}, "held_on", "不能晚于今天"),
    ]
    for change, field, message in cases:
        response = consult(people.officer, tan.pk, **change)
        assert response.status_code == 400, (change, response.content)
        assert message in response.json()["errors"][field][0], change
    # Off the roster: no new consultation.
    lawyers.set_active(tan, by=people.officer, active=False)
    refused = consult(people.officer, tan.pk)
    assert refused.status_code == 400 and "不在册" in refused.json()["errors"]["lawyer"][0]
    # Another office's referral: refused.
    taishan = f.org("台山市信访局")
    ts_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(taishan, Role.OFFICER)])
    ts_lawyer = lawyers.add_lawyer(by=ts_officer, office=taishan, name="伍律师", kind="lawyer", firm="台山律所")
    ours = story.mediating()
    f.make_user("both", name="兼任", memberships=[(taishan, Role.OFFICER), (people.petition_office, Role.OFFICER)])
    both = type(people.officer).objects.get(username="both")
    response = consult(both, ts_lawyer.pk, referral=ours.pk)
    assert response.status_code == 400 and "本信访部门" in response.json()["errors"]["referral"][0]
    assert not Consultation.objects.exists()


def test_the_figures_are_a_hand_count(people, roster):
    tan, ou = roster
    day = today()
    jan = datetime.date(day.year, 1, 1)
    for lawyer, persons, held_on in (
        (tan, 3, day),
        (tan, 1, jan),
        (ou, 2, day),
        (ou, 4, jan - datetime.timedelta(days=1)),
    ):
        lawyers.record_consultation(by=people.officer, lawyer=lawyer, held_on=held_on, persons=persons, topic="咨询")
    taishan = f.org("台山市信访局")
    ts_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(taishan, Role.OFFICER)])
    ts_lawyer = lawyers.add_lawyer(by=ts_officer, office=taishan, name="伍律师", kind="lawyer", firm="台山律所")
    lawyers.record_consultation(by=ts_officer, lawyer=ts_lawyer, held_on=day, persons=5, topic="咨询")

    def figures(user, **params):
        response = api(user).get("/api/consultations/figures/", params)
        assert response.status_code == 200, response.content
        return response.json()

    # This year, 蓬江: 谭 2批4人次, 区 1批2人次 (last year's visit is outside); 3批6人次.
    mine = figures(people.officer)
    assert (mine["batches"], mine["persons"]) == (3, 6)
    assert {r["name"]: (r["batches"], r["persons"]) for r in mine["lawyers"]} == {"谭志远": (2, 4), "区慧敏": (1, 2)}
    assert "驻点律师共为3批6人次提供法律咨询服务" in mine["summary"]
    # Every day since last year: + 区's visit.
    wider = figures(people.officer, **{"from": (jan - datetime.timedelta(days=30)).isoformat()})
    assert (wider["batches"], wider["persons"]) == (4, 10)
    # The city bureau sees 台山's too; the county bureau only 蓬江's; the committee nothing.
    assert (figures(people.city)["batches"], figures(people.city)["persons"]) == (4, 11)
    assert figures(people.supervisor)["batches"] == 3
    assert figures(people.mediator)["batches"] == 0
    bad = api(people.officer).get("/api/consultations/figures/", {"from": "2026-13-01"})
    assert bad.status_code == 400 and "from" in bad.json()["errors"]
    backwards = api(people.officer).get("/api/consultations/figures/", {"from": day.isoformat(), "to": jan.isoformat()})
    assert day == jan or backwards.status_code == 400


def test_the_page_records_and_shows(people, story, roster):
    tan, _ou = roster
    page = login(people.officer).get("/referrals/lawyers/").content.decode()
    assert "data-lawyer-roster" in page and "谭志远" in page and 'data-record="add_consultation"' in page
    referral = story.submitted()
    bad = login(people.officer).post(
        "/referrals/lawyers/consultations/add/",
        {"lawyer": tan.pk, "held_on": today().isoformat(), "persons": 2, "topic": "咨询", "referral": "JM-1999-000001"},
    )
    assert bad.status_code == 400 and "未找到您有权查看的案件" in bad.content.decode()
    assert not Consultation.objects.exists()
    done = login(people.officer).post(
        "/referrals/lawyers/consultations/add/",
        {"lawyer": tan.pk, "held_on": today().isoformat(), "persons": 2, "topic": "咨询", "referral": referral.number},
    )
    assert done.status_code == 302
    page = login(people.officer).get("/referrals/lawyers/").content.decode()
    assert 'data-figure="persons" data-value="2"' in page and referral.number in page
    added = login(people.reviewer).post(
        "/referrals/lawyers/add/", {"name": "梁永康", "kind": "adviser", "firm": "法律援助处"}
    )
    assert added.status_code == 302 and Lawyer.objects.filter(name="梁永康", kind="adviser").exists()
    refused = login(people.reviewer).post("/referrals/lawyers/add/", {"name": "", "kind": "lawyer", "firm": ""})
    assert refused.status_code == 400 and "请填写以下内容" in refused.content.decode()
    off = login(people.officer).post(f"/referrals/lawyers/{tan.pk}/active/", {"active": "0"})
    assert off.status_code == 302 and not Lawyer.objects.get(pk=tan.pk).active
    # Supervisors see the page and its figures, without the forms.
    seen = login(people.supervisor).get("/referrals/lawyers/").content.decode()
    assert "谭志远" in seen and 'data-record="add_consultation"' not in seen and 'data-record="add_lawyer"' not in seen
    home = login(people.officer).get("/").content.decode()
    assert "data-dash-consultations" in home


def test_a_lawyer_of_the_referring_office_takes_part_in_a_session(people, story, roster):
    tan, ou = roster
    referral = story.mediating()
    body = {
        "held_on": today().isoformat(),
        "location": "环市街道调解室",
        "participants": "双方当事人",
        "record": "律师释法说理。",
        "lawyers": [ou.pk],
    }
    response = api(people.mediator).post(f"/api/referrals/{referral.pk}/sessions/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["lawyers"] == [ou.pk]
    assert list(MediationSession.objects.get(referral=referral).lawyers.all()) == [ou]
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    assert "区慧敏（广东江门侨乡律师事务所）" in page
    # A lawyer off the roster or of another office: refused, nothing written.
    lawyers.set_active(tan, by=people.officer, active=False)
    refused = api(people.mediator).post(
        f"/api/referrals/{referral.pk}/sessions/", {**body, "lawyers": [tan.pk]}, format="json"
    )
    assert refused.status_code == 400
    # Named to no one (found from outside: another county's committee read lawyers' names by id), and
    # the same answer as for an id that does not exist.
    message = refused.json()["errors"]["lawyers"]
    assert message == ["所选律师中有不在移交信访部门在册律师名册中的，请重新选择。"] and "谭志远" not in message[0]
    unknown = api(people.mediator).post(
        f"/api/referrals/{referral.pk}/sessions/", {**body, "lawyers": [10**9]}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["errors"]["lawyers"] == message
    assert MediationSession.objects.filter(referral=referral).count() == 1


def test_a_consultation_never_names_a_referral_the_reader_may_not_open(people, story, roster):
    """Found from outside: a consultation for the office's own draft showed the draft's id and number
    to the region's supervisors (API and page), who get 404 for the draft itself."""
    tan, _ou = roster
    draft = story.draft()
    assert consult(people.officer, tan.pk, referral=draft.pk, topic="草稿案件咨询").status_code == 201
    mine = api(people.officer).get("/api/consultations/").json()
    assert [c["referral"] for c in mine] == [{"id": draft.pk, "number": draft.number}]
    for persona in ("supervisor", "city"):
        seen = api(getattr(people, persona)).get("/api/consultations/").json()
        assert [c["referral"] for c in seen] == [None], persona
        page = login(getattr(people, persona)).get("/referrals/lawyers/").content.decode()
        assert "草稿案件咨询" in page and draft.number not in page, persona


def test_the_page_toggle_says_what_it_expects(people, roster):
    """Found from outside: any value but 1 took the lawyer off the roster."""
    tan, _ou = roster
    for value in ("true", "", "2"):
        response = login(people.officer).post(f"/referrals/lawyers/{tan.pk}/active/", {"active": value})
        assert response.status_code == 400, value
    assert Lawyer.objects.get(pk=tan.pk).active


def test_a_licence_number_is_17_ascii_digits(people):
    """Found from outside: full-width digits were stored as they were typed."""
    response = add(people.officer, {**TAN, "licence_no": "１４４０７２０１０１０１２３４５６"})
    assert response.status_code == 201 and response.json()["licence_no"] == "14407201010123456"
    arabic = add(people.officer, {**OU, "licence_no": "١" * 17})
    assert arabic.status_code == 400 and "17位数字" in arabic.json()["errors"]["licence_no"][0]


def test_someone_keeping_two_offices_chooses_the_roster_on_the_page(people):
    taishan = f.org("台山市信访局")
    f.make_user("both", name="兼任", memberships=[(taishan, Role.OFFICER), (people.petition_office, Role.OFFICER)])
    both = type(people.officer).objects.get(username="both")
    page = login(both).get("/referrals/lawyers/").content.decode()
    assert 'name="office"' in page and "台山市信访局" in page
    unchosen = login(both).post("/referrals/lawyers/add/", {"name": "伍律师", "kind": "lawyer", "firm": "台山律所"})
    assert unchosen.status_code == 400 and not Lawyer.objects.exists()
    chosen = login(both).post(
        "/referrals/lawyers/add/", {"office": taishan.pk, "name": "伍律师", "kind": "lawyer", "firm": "台山律所"}
    )
    assert chosen.status_code == 302 and Lawyer.objects.get().office == taishan
    # One office: no choice offered, their own office.
    assert 'name="office"' not in login(people.officer).get("/referrals/lawyers/").content.decode()


def test_the_page_forms_say_the_rules_mistakes_with_the_forms_own_on_the_first_send(people, roster):
    """Found by the outside probe: a missing field hid the rule's own mistakes (a formula prefix, a
    date in the future) until the next send."""
    officer = login(people.officer)
    lawyer = officer.post("/referrals/lawyers/add/", {"name": "", "kind": "lawyer", "firm": "=HYPERLINK(1)"})
    page = lawyer.content.decode()
    assert lawyer.status_code == 400
    assert "执业机构（律师事务所）" in page and "不能以 =、+、-、@ 开头" in page  # the rule's, on the firm
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    consult = officer.post(
        "/referrals/lawyers/consultations/add/",
        {"lawyer": roster[0].pk, "held_on": future, "persons": "", "topic": "=cmd"},
    )
    page = consult.content.decode()
    assert consult.status_code == 400
    assert "日期不能晚于今天" in page  # the future date is said at once
    assert "咨询事项不能以 =、+、-、@ 开头" in page
    assert not Consultation.objects.filter(topic="=cmd").exists()


def test_the_ledger_counts_each_referrals_consultations(people, story, roster):
    referral, other = story.submitted(), story.submitted()
    for persons in (2, 3):
        lawyers.record_consultation(
            by=people.officer,
            lawyer=roster[0],
            held_on=timezone.localdate(),
            persons=persons,
            topic="相邻关系纠纷",
            referral=referral,
        )
    _response, sheet = ledger(people.officer)
    rows = {r["编号"]: r for r in records(sheet)}
    assert (rows[referral.number]["律师咨询批次"], rows[referral.number]["律师咨询人次"]) == (2, 5)
    assert (rows[other.number]["律师咨询批次"], rows[other.number]["律师咨询人次"]) == (0, 0)
