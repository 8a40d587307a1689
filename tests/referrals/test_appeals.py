"""复查 and 复核 (``referrals/appeals.py``): the origin office records the written reply's delivery on a
closed referral; the petition office above finds the referral by its number, registers a 复查 within
30 days of the delivery and answers it within 30 days (hearing days not counted); a 复核 follows a
delivered 复查 opinion, recorded by the top office for the body outside the system. Only the office
keeping a request may act on it; before it registers one it cannot see the referral, and a number it
may not look up reads exactly like one that does not exist. The figures agree with a hand count and
each number opens exactly its referrals."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from lib.uploads import minimal_pdf
from notifications.models import Notification
from referrals import appeals, lawyers
from referrals.models import Appeal, DeadlineReminder, Referral, TimelineEvent
from tests import factories as f
from tests.conftest import api, login
from tests.factories import today
from townships.calendar import calendar_period_end
from townships.models import Organisation, Role

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def city_office():
    return f.org("江门市信访局")


@pytest.fixture
def city_officer(city_office):
    return f.make_user("cityoffice", name="何嘉欣", memberships=[(city_office, Role.OFFICER)])


@pytest.fixture
def other_county_officer():
    office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440704")
    return f.make_user("jianghai", name="江海干部", memberships=[(office, Role.OFFICER)])


def closed(story, days_ago: int = 0) -> Referral:
    """A closed referral, closed ``days_ago`` days ago (only the closing day moves: it bounds the reply)."""
    referral = story.closed()
    if days_ago:
        Referral.objects.filter(pk=referral.pk).update(closed_at=timezone.now() - days(days_ago))
        referral.refresh_from_db()
    return referral


def replied(story, people, delivered: datetime.date | None = None, days_ago: int = 0) -> Referral:
    referral = closed(story, days_ago)
    response = api(people.reviewer).post(
        f"/api/referrals/{referral.pk}/reply/", {"delivered_on": (delivered or today()).isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    return referral


def request_body(referral: Referral, on: datetime.date | None = None, **extra) -> dict:
    return {
        "number": referral.number,
        "requested_on": (on or today()).isoformat(),
        "grounds": "不服答复意见。",
        **extra,
    }


def register(user, referral: Referral, **extra):
    return api(user).post("/api/appeals/", request_body(referral, **extra), format="json")


def answer(user, referral: Referral, **body):
    body.setdefault("outcome", "upheld")
    body.setdefault("decided_on", today().isoformat())
    body.setdefault("opinion", "原答复意见认定事实清楚，予以维持。")
    return api(user).post(f"/api/referrals/{referral.pk}/appeals/answer/", body, format="json")


def counts() -> tuple[int, int]:
    return Appeal.objects.count(), TimelineEvent.objects.count()


# --- The reply ------------------------------------------------------------------------------------


def test_the_origin_office_records_the_reply_once_closed_and_others_may_not(people, story):
    open_one = story.succeeded()
    response = api(people.reviewer).post(
        f"/api/referrals/{open_one.pk}/reply/", {"delivered_on": today().isoformat()}, format="json"
    )
    assert response.status_code == 409
    closed = story.closed()
    url = f"/api/referrals/{closed.pk}/reply/"
    assert api(people.mediator).post(url, {"delivered_on": today().isoformat()}, format="json").status_code == 403
    assert api(people.other_mediator).post(url, {"delivered_on": today().isoformat()}, format="json").status_code == 404
    future = api(people.officer).post(url, {"delivered_on": (today() + days(1)).isoformat()}, format="json")
    assert future.status_code == 400 and "delivered_on" in future.json()["errors"]
    before_closing = api(people.officer).post(url, {"delivered_on": (today() - days(1)).isoformat()}, format="json")
    assert before_closing.status_code == 400
    assert "办结日期" in before_closing.json()["errors"]["delivered_on"][0]
    closed.refresh_from_db()
    assert closed.reply_delivered_on is None
    ok = api(people.officer).post(url, {"delivered_on": today().isoformat()}, format="json")
    assert ok.status_code == 200
    assert ok.json() == {"reply_delivered_on": today().isoformat(), "next": "review", "items": []}
    event = TimelineEvent.objects.filter(referral=closed, action="record_reply").get()
    last = calendar_period_end(today(), 30).date
    assert last.isoformat() in event.note
    assert api(people.officer).get(f"/api/referrals/{closed.pk}/").json()["appeals"]["reply_delivered_on"] == (
        today().isoformat()
    )


# --- Registering a 复查 -------------------------------------------------------------------------


def test_the_office_above_registers_a_review_by_number_and_then_sees_the_referral(
    people, story, city_officer, city_office
):
    referral = replied(story, people)
    assert api(city_officer).get(f"/api/referrals/{referral.pk}/").status_code == 404
    studio = lawyers.add_lawyer(by=city_officer, office=city_office, name="周明哲", kind="lawyer", firm="法正律所")
    response = register(city_officer, referral, lawyer=studio.pk, number=f" {referral.number.lower()} ")
    assert response.status_code == 201, response.json()
    item = response.json()["items"][0]
    assert item["kind"] == "review" and item["body"] == "江门市信访局" and item["lawyer"]["name"] == "周明哲"
    assert item["due_on"] == calendar_period_end(today(), 30).date.isoformat()
    assert item["outcome"] is None and item["overdue"] is False
    assert response.json()["next"] is None
    assert api(city_officer).get(f"/api/referrals/{referral.pk}/").status_code == 200
    assert TimelineEvent.objects.filter(referral=referral, action="register_appeal").count() == 1
    told = Notification.objects.filter(referral_id=referral.pk, kind="referral_appealed")
    assert set(told.values_list("recipient__username", flat=True)) == {"officer", "reviewer"}
    # One 复查 per referral.
    again = register(city_officer, referral)
    assert again.status_code == 409 and "复查申请尚在办理中" in again.json()["detail"]


def test_a_number_not_to_look_up_reads_like_an_unknown_one(people, story, city_officer, other_county_officer):
    referral = replied(story, people)
    unknown = api(city_officer).post("/api/appeals/", {**request_body(referral), "number": "JM-2099-999999"})
    assert unknown.status_code == 404
    # An office of another county is not above 蓬江区信访局: the same answer, nothing written.
    before = counts()
    other = register(other_county_officer, referral)
    assert other.status_code == 404 and other.json()["detail"] == unknown.json()["detail"]
    # A referral that is not closed is not found either by the office above.
    open_one = story.mediating()
    before = counts()
    assert register(city_officer, open_one).status_code == 404
    # The origin office sees it, but the 复查 is not its own to register.
    assert register(people.officer, referral).status_code == 403
    assert register(people.mediator, referral).status_code == 403
    assert counts() == before


def test_a_request_before_the_reply_or_after_its_thirty_days_is_refused(people, story, city_officer):
    not_replied = story.closed()
    refused = register(city_officer, not_replied)
    assert refused.status_code == 409 and "答复意见送达日期" in refused.json()["detail"]
    delivered = today() - days(40)
    referral = replied(story, people, delivered, days_ago=45)
    last = calendar_period_end(delivered, 30).date
    before = counts()
    late = register(city_officer, referral, requested_on=(last + days(1)).isoformat())
    assert late.status_code == 400
    assert last.isoformat() in late.json()["errors"]["requested_on"][0]
    early = register(city_officer, referral, requested_on=(delivered - days(1)).isoformat())
    assert early.status_code == 400
    blank = register(city_officer, referral, requested_on=last.isoformat(), grounds=" ")
    assert blank.status_code == 400 and "grounds" in blank.json()["errors"]
    assert counts() == before
    assert register(city_officer, referral, requested_on=last.isoformat()).status_code == 201


def test_the_lawyer_comes_from_the_keeping_offices_roster(people, story, city_officer):
    referral = replied(story, people)
    theirs = lawyers.add_lawyer(
        by=people.officer, office=people.petition_office, name="谭志远", kind="lawyer", firm="五邑律所"
    )
    response = register(city_officer, referral, lawyer=theirs.pk)
    assert response.status_code == 400 and "在册律师" in response.json()["errors"]["lawyer"][0]
    assert not Appeal.objects.exists()


# --- Answering --------------------------------------------------------------------------------------


def test_only_the_keeping_office_answers_and_the_answer_is_fixed_once_delivered(people, story, city_officer):
    referral = replied(story, people)
    register(city_officer, referral)
    assert answer(people.reviewer, referral).status_code == 403
    assert answer(people.mediator, referral).status_code == 403
    assert answer(people.other_mediator, referral).status_code == 404
    missing = answer(city_officer, referral, opinion="")
    assert missing.status_code == 400 and "opinion" in missing.json()["errors"]
    kept = answer(city_officer, referral)
    assert kept.status_code == 200
    item = kept.json()["items"][0]
    assert (item["outcome"], item["decided_on"], item["late"]) == ("upheld", today().isoformat(), False)
    assert kept.json()["next"] is None  # not delivered yet: no 复核
    corrected = answer(city_officer, referral, outcome="changed", delivered_on=today().isoformat())
    assert corrected.status_code == 200 and corrected.json()["items"][0]["outcome"] == "changed"
    assert corrected.json()["next"] == "re_review"
    assert answer(city_officer, referral, outcome="revoked").status_code == 409
    assert (
        api(people.reviewer)
        .post(f"/api/referrals/{referral.pk}/reply/", {"delivered_on": today().isoformat()}, format="json")
        .status_code
        == 409
    )


def re_reviewed(story, people, city_officer, *, days_ago: int = 0) -> Referral:
    """A referral whose 复查 was upheld and delivered ``days_ago`` days ago, with a 复核 received that day
    (recorded by the city for the province)."""
    day = today() - days(days_ago)
    referral = replied(story, people, day, days_ago=days_ago)
    register(city_officer, referral, requested_on=day.isoformat())
    answer(city_officer, referral, decided_on=day.isoformat(), delivered_on=day.isoformat())
    response = api(city_officer).post(
        f"/api/referrals/{referral.pk}/appeals/",
        {"requested_on": day.isoformat(), "grounds": "对复查意见不服。", "body": "广东省信访局"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return referral


def test_a_hearing_moves_the_re_review_answer_day_and_a_late_answer_is_marked(people, story, city_officer):
    referral = re_reviewed(story, people, city_officer, days_ago=50)
    appeal = Appeal.objects.get(kind="re_review")
    hearing = answer(city_officer, referral, outcome="", hearing_days=5)
    assert hearing.status_code == 200
    appeal.refresh_from_db()
    assert appeal.hearing_days == 5 and appeal.outcome == ""
    assert appeal.due_on == calendar_period_end(appeal.requested_on, 35).date
    assert hearing.json()["items"][1]["overdue"] == (appeal.due_on < today())
    done = answer(city_officer, referral)
    assert done.json()["items"][1]["late"] == (today() > appeal.due_on) is True


def test_outside_probe_a_hearing_is_for_a_re_review_only_and_never_after_its_answer(people, story, city_officer):
    # Found from outside: hearing days on a 复查 (Art. 35 has none), and hearing days added after a late
    # answer made it "on time".
    referral = replied(story, people, today() - days(46), days_ago=46)
    register(city_officer, referral, requested_on=(today() - days(45)).isoformat())
    on_review = answer(city_officer, referral, outcome="", hearing_days=5)
    assert on_review.status_code == 400 and "第三十六条" in on_review.json()["errors"]["hearing_days"][0]
    opinion_day = (today() - days(40)).isoformat()
    answer(city_officer, referral, decided_on=opinion_day, delivered_on=opinion_day)
    api(city_officer).post(
        f"/api/referrals/{referral.pk}/appeals/",
        {"requested_on": (today() - days(35)).isoformat(), "grounds": "不服。", "body": "广东省信访局"},
        format="json",
    )
    late = answer(city_officer, referral)
    assert late.json()["items"][1]["late"] is True
    moved = answer(city_officer, referral, outcome="", hearing_days=30)
    assert moved.status_code == 400 and "hearing_days" in moved.json()["errors"]
    assert Appeal.objects.get(kind="re_review").hearing_days == 0
    scan = SimpleUploadedFile("意见书.pdf", minimal_pdf("opinion"), content_type="application/pdf")
    dropped = api(city_officer).post(
        f"/api/referrals/{referral.pk}/appeals/answer/", {"hearing_days": 3, "document": scan}, format="multipart"
    )
    assert dropped.status_code == 400 and "document" in dropped.json()["errors"]


def test_outside_probe_a_request_under_way_holds_the_referral_from_reopening(people, story, city_officer):
    # Found from outside: the origin office reopened (then merged) a referral under 复查, so the office
    # above could never answer it and the sweep reminded everyone of a request nobody could answer.
    referral = replied(story, people)
    register(city_officer, referral)
    url = f"/api/referrals/{referral.pk}/actions/reopen/"
    held = api(people.reviewer).post(url, {"reason": "重新调解"}, format="json")
    assert held.status_code == 409 and "复查复核申请正在办理" in held.json()["detail"]
    detail = api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()
    assert "reopen" not in detail["available_actions"]
    # Answered and delivered: the office may reopen (a 撤销 sends it back), close it again and record the
    # new reply.
    answer(city_officer, referral, outcome="revoked", opinion="撤销，责成重新办理。", delivered_on=today().isoformat())
    assert api(people.reviewer).post(url, {"reason": "复查撤销，重新调解"}, format="json").status_code == 200


def test_outside_probe_the_citys_record_of_a_provincial_request_names_no_city_lawyer(
    people, story, city_officer, city_office
):
    referral = replied(story, people)
    register(city_officer, referral)
    answer(city_officer, referral, delivered_on=today().isoformat())
    studio = lawyers.add_lawyer(by=city_officer, office=city_office, name="周明哲", kind="lawyer", firm="法正律所")
    response = api(city_officer).post(
        f"/api/referrals/{referral.pk}/appeals/",
        {"requested_on": today().isoformat(), "grounds": "不服。", "body": "广东省信访局", "lawyer": studio.pk},
        format="json",
    )
    assert response.status_code == 400 and "lawyer" in response.json()["errors"]


def test_outside_probe_the_share_of_replies_contested_never_passes_the_whole(people, story, city_officer):
    # A reply delivered last year and contested this year counts as contested in the year it was delivered.
    old = replied(story, people, today() - days(20), days_ago=25)
    Referral.objects.filter(pk=old.pk).update(reply_delivered_on=today().replace(year=today().year - 1))
    Appeal.objects.create(
        referral=old, kind="review", office=f.org("江门市信访局"), requested_on=today(), grounds="不服。",
        due_on=today(), registered_by=city_officer,
    )  # fmt: skip
    replied(story, people)
    rep = appeals.report(people.officer, appeals.Scope(year=today().year))
    assert (rep.replied, rep.rows[0].figures["requested"], rep.contested_share) == (1, 1, 0.0)
    assert "撤回0件" in rep.summary


def test_a_withdrawn_review_ends_without_a_re_review(people, story, city_officer):
    referral = replied(story, people)
    register(city_officer, referral)
    withdrawn = answer(city_officer, referral, outcome="withdrawn", opinion="")
    assert withdrawn.status_code == 200 and withdrawn.json()["next"] is None
    refused = register(city_officer, referral)
    assert refused.status_code == 409 and "撤回" in refused.json()["detail"]


# --- 复核 --------------------------------------------------------------------------------------------


def test_the_city_records_the_re_review_for_the_province_within_thirty_days_of_the_opinion(people, story, city_officer):
    referral = replied(story, people)
    register(city_officer, referral)
    answer(city_officer, referral, delivered_on=today().isoformat())
    url = f"/api/referrals/{referral.pk}/appeals/"
    body = {"requested_on": today().isoformat(), "grounds": "对复查意见不服。"}
    no_body = api(city_officer).post(url, body, format="json")
    assert no_body.status_code == 400 and "广东省信访局" in no_body.json()["errors"]["body"][0]
    assert api(people.officer).post(url, {**body, "body": "广东省信访局"}, format="json").status_code == 403
    ok = api(city_officer).post(url, {**body, "body": "广东省信访局", "kind": "re_review"}, format="json")
    assert ok.status_code == 201
    re_review = ok.json()["items"][1]
    assert (re_review["kind"], re_review["body"]) == ("re_review", "广东省信访局")
    answer(city_officer, referral, delivered_on=today().isoformat())
    final = register(city_officer, referral)
    assert final.status_code == 409 and "最终意见" in final.json()["detail"]


# --- Documents --------------------------------------------------------------------------------------


def test_the_opinion_document_is_judged_by_its_bytes_and_served_to_those_who_see_the_referral(
    people, story, city_officer, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    referral = replied(story, people)
    register(city_officer, referral)
    url = f"/api/referrals/{referral.pk}/appeals/answer/"
    body = {"outcome": "upheld", "decided_on": today().isoformat(), "opinion": "维持。"}
    fake = SimpleUploadedFile("意见书.pdf", b"MZ not a pdf", content_type="application/pdf")
    bad = api(city_officer).post(url, {**body, "document": fake}, format="multipart")
    assert bad.status_code == 400 and "document" in bad.json()["errors"]
    assert Appeal.objects.get().outcome == ""
    scan = SimpleUploadedFile("意见书.pdf", minimal_pdf("opinion"), content_type="application/pdf")
    ok = api(city_officer).post(url, {**body, "document": scan}, format="multipart")
    link = ok.json()["items"][0]["document"]
    assert link == reverse("referrals:appeal_document", args=[referral.pk, Appeal.objects.get().pk])
    got = login(people.officer).get(link)
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert login(people.other_mediator).get(link).status_code == 404


# --- Figures, lists and the clock -------------------------------------------------------------------


def test_figures_agree_with_a_hand_count_and_each_number_opens_its_referrals(people, story, city_officer):
    quiet = replied(story, people)
    upheld = replied(story, people)
    register(city_officer, upheld)
    answer(city_officer, upheld, delivered_on=today().isoformat())
    overdue = replied(story, people, today() - days(60), days_ago=60)
    register(city_officer, overdue, requested_on=(today() - days(50)).isoformat())
    story.closed()  # closed, reply not recorded: counts nowhere
    # By hand: 3 replies delivered; 复查 2 — 1 upheld (answered), 1 open and overdue; no 复核.
    expected_review = {"requested": 2, "open": 1, "overdue": 1, "answered": 1, "upheld": 1}
    for user, replied_count in ((people.officer, 3), (city_officer, 2)):
        rep = appeals.report(user, appeals.Scope())
        assert rep.replied == replied_count
        review, re_review = (r.figures for r in rep.rows)
        assert {k: v for k, v in review.items() if v} == expected_review
        assert not any(re_review.values())
    got = api(people.officer).get("/api/appeals/").json()
    assert got["review"]["overdue"] == 1 and got["replied"] == 3 and len(got["items"]) == 2
    assert got["contested_share"] == round(2 / 3, 4)

    def listed(user, query: str) -> set[int]:
        response = api(user).get(f"/api/referrals/?{query}&page_size=100")
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    rep = appeals.report(people.officer, appeals.Scope())
    assert listed(people.officer, rep.list_query("replied")) == {quiet.pk, upheld.pk, overdue.pk}
    assert listed(people.officer, rep.list_query("review")) == {upheld.pk, overdue.pk}
    assert listed(people.officer, rep.list_query("review", "upheld")) == {upheld.pk}
    assert listed(people.officer, rep.list_query("review", "overdue")) == {overdue.pk}
    assert listed(city_officer, rep.list_query("review")) == {upheld.pk, overdue.pk}
    assert listed(people.officer, "appeal=re_review") == set()
    bad = api(people.officer).get("/api/referrals/?appeal=review.maybe")
    assert bad.status_code == 400 and "appeal" in bad.json()["errors"]


def test_the_sweep_tells_the_keeper_once_and_the_origin_when_overdue(people, story, city_officer):
    referral = replied(story, people, today() - days(60), days_ago=60)
    register(city_officer, referral, requested_on=(today() - days(50)).isoformat())
    assert appeals.sweep_appeal_deadlines() == 1
    assert appeals.sweep_appeal_deadlines() == 0
    reminder = DeadlineReminder.objects.get(kind="appeal")
    assert reminder.level == DeadlineReminder.Level.OVERDUE
    told = Notification.objects.filter(referral_id=referral.pk, kind="deadline_overdue")
    assert {"cityoffice", "officer", "reviewer"} <= set(told.values_list("recipient__username", flat=True))


# --- Pages ------------------------------------------------------------------------------------------


def test_pages_record_the_reply_register_by_number_and_answer(people, story, city_officer):
    referral = story.closed()
    page = login(people.reviewer).get(reverse("referrals:detail", args=[referral.pk]))
    assert b"data-appeals-panel" in page.content and b'id="action-record_reply"' in page.content
    sent = login(people.reviewer).post(
        reverse("referrals:record_reply", args=[referral.pk]), {"delivered_on": today().isoformat()}
    )
    assert sent.status_code == 302
    client = login(city_officer)
    listing = client.get(reverse("referrals:appeals"))
    assert listing.status_code == 200 and b"id_appeal_number" in listing.content
    url = reverse("referrals:register_appeal_by_number")
    before = counts()
    wrong = client.post(url, {"number": "JM-2099-000001", "requested_on": today().isoformat(), "grounds": "不服。"})
    assert wrong.status_code == 400 and str(appeals.NOT_FOUND).encode() in wrong.content
    assert counts() == before
    ok = client.post(url, {"number": referral.number, "requested_on": today().isoformat(), "grounds": "不服。"})
    assert ok.status_code == 302 and ok["Location"] == reverse("referrals:detail", args=[referral.pk])
    detail = client.get(ok["Location"])
    assert b'id="action-answer_appeal"' in detail.content
    answered = client.post(
        reverse("referrals:answer_appeal", args=[referral.pk]),
        {"outcome": "upheld", "decided_on": today().isoformat(), "opinion": "维持。"},
    )
    assert answered.status_code == 302
    assert Appeal.objects.get().outcome == "upheld"
    figures = client.get(reverse("referrals:appeals")).content.decode()
    assert 'data-figure="upheld"' in figures and "申请复查1件" in figures
    # Someone who is not a petition officer gets the figures but no form, and may not post it.
    assert b"id_appeal_number" not in login(people.mediator).get(reverse("referrals:appeals")).content
    assert login(people.mediator).post(url, {"number": referral.number}).status_code == 403


def test_the_home_page_card_shows_this_years_figures_with_their_lists(people, story, city_officer):
    referral = replied(story, people)
    register(city_officer, referral)
    answer(city_officer, referral, outcome="revoked", opinion="撤销原答复意见，责成重新办理。")
    year = today().year
    for user in (people.officer, city_officer, people.supervisor):
        page = login(user).get("/").content.decode()
        assert "data-dash-appeals" in page, user.username
        card = page[page.index("data-dash-appeals") :]
        assert f'?appeal=review.revoked&amp;appeal_year={year}">1</a>' in card
        assert f'?appeal=review&amp;appeal_year={year}">1</a>' in card
    listed = api(people.officer).get(f"/api/referrals/?appeal=review.revoked&appeal_year={year}").json()["results"]
    assert [r["id"] for r in listed] == [referral.pk]
    assert api(people.officer).get(f"/api/referrals/?appeal=review&appeal_year={year - 1}").json()["results"] == []
    # A committee has no 复查复核 of its own: no card.
    assert "data-dash-appeals" not in login(people.mediator).get("/").content.decode()


def test_the_ledger_says_each_referrals_reply_review_and_re_review(people, story, city_officer):
    from tests.referrals.test_exports import ledger, records

    referral = replied(story, people)
    register(city_officer, referral)
    answer(city_officer, referral, delivered_on=today().isoformat())
    api(city_officer).post(
        f"/api/referrals/{referral.pk}/appeals/",
        {"requested_on": today().isoformat(), "grounds": "不服复查意见。", "body": "广东省信访局"},
        format="json",
    )
    other = story.closed()
    _response, sheet = ledger(people.officer)
    rows = {r["编号"]: r for r in records(sheet)}
    got = rows[referral.number]
    assert got["复查"] == f"江门市信访局 {today().isoformat()} 维持"
    assert got["复核"] == f"广东省信访局 {today().isoformat()} 办理中"
    # Empty cells (read back as None).
    assert not any(rows[other.number][key] for key in ("复查", "复核", "答复意见送达日期"))
    assert rows[referral.number]["答复意见送达日期"] is not None


def test_the_page_forms_say_the_rules_mistakes_with_the_forms_on_the_first_send(people, story, city_officer):
    referral = replied(story, people)
    register(city_officer, referral)
    page = login(city_officer).post(
        reverse("referrals:answer_appeal", args=[referral.pk]),
        {"outcome": "upheld", "decided_on": (today() + days(2)).isoformat(), "opinion": "", "hearing_days": "200"},
    )
    text = page.content.decode()
    assert page.status_code == 400 and "请填写复查复核意见" in text and "日期不能晚于今天" in text
    assert Appeal.objects.get().outcome == ""
    other = replied(story, people)
    by_number = login(city_officer).post(
        reverse("referrals:register_appeal_by_number"),
        {"number": other.number, "requested_on": (today() + days(1)).isoformat(), "grounds": " "},
    )
    text = by_number.content.decode()
    assert by_number.status_code == 400 and "日期不能晚于今天" in text and "申请人的请求和理由：该字段是必填项" in text
    assert Appeal.objects.count() == 1
