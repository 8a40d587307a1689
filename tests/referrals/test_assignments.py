"""交办件 (``referrals/assignments.py``): a referral handed down by the national, provincial or city
bureau in a numbered batch, with a day to report back by. The origin office records it (with the draft
or later), corrects it until it reports back, and reports back once the mediation has ended; the
report day is a clock with reminders and escalation; the list filters and the figures by level and
batch — 交办, 调解结束, 已办结, 已上报, 逾期未上报, 逾期上报 — count only what the reader may see."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lib.uploads import minimal_pdf
from notifications.models import Notification
from referrals import assignments, workflow
from referrals.models import Assignment, DeadlineReminder, Referral, TimelineEvent
from tests import factories as f
from tests.conftest import api, login
from tests.factories import today
from townships.models import Role

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


PROVINCIAL = {"level": "provincial", "batch": "2026年第2批"}


def handed(on: datetime.date | None = None, due: datetime.date | None = None, **extra) -> dict:
    on = on or today()
    return {**PROVINCIAL, "assigned_on": on.isoformat(), "report_due_on": (due or on + days(60)).isoformat(), **extra}


def record(user, referral: Referral, data: dict | None = None):
    return api(user).post(f"/api/referrals/{referral.pk}/assignment/", data or handed(), format="json")


def report_back(user, referral: Referral, data: dict | None = None, fmt: str = "json"):
    body = data if data is not None else {"reported_on": today().isoformat(), "report": "经调解达成协议，已履行完毕。"}
    return api(user).post(f"/api/referrals/{referral.pk}/actions/report_back/", body, format=fmt)


def detail(user, referral: Referral) -> dict:
    response = api(user).get(f"/api/referrals/{referral.pk}/")
    assert response.status_code == 200
    return response.json()


def events(referral: Referral, action: str) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(referral=referral, action=action).order_by("id"))


def new_draft_body(people, **extra) -> dict:
    return {
        "received_on": today().isoformat(),
        "category": "neighbour",
        "summary": "相邻通行纠纷，省信访局交办。",
        "target": people.huanshi.pk,
        **extra,
    }


# --- Recording ------------------------------------------------------------------------------------


def test_a_draft_is_registered_with_its_assignment_and_lists_show_it(people):
    response = api(people.officer).post("/api/referrals/", new_draft_body(people, assigned_by=handed()), format="json")
    assert response.status_code == 201, response.json()
    got = response.json()["assigned_by"]
    assert got == {
        "level": "provincial",
        "level_label": "省信访局",
        "batch": "2026年第2批",
        "assigned_on": today().isoformat(),
        "report_due_on": (today() + days(60)).isoformat(),
        "report_overdue": False,
        "reported_on": None,
        "report": None,
        "report_file": None,
    }
    # Found from outside: the figures' generated_at was in UTC, unlike every other time of the API.
    assert api(people.officer).get("/api/assignments/").json()["scope"]["generated_at"].endswith("+08:00")
    referral = Referral.objects.get(pk=response.json()["id"])
    [event] = events(referral, "record_assignment")
    assert event.actor == people.officer and event.data["batch"] == "2026年第2批"
    assert event.get_action_label() == "登记交办件"
    # Lists carry it too (prefetched), and filter by it.
    rows = api(people.officer).get("/api/referrals/", {"assigned": "provincial"}).json()["results"]
    assert [r["id"] for r in rows] == [referral.pk] and rows[0]["assigned_by"]["batch"] == "2026年第2批"
    assert api(people.officer).get("/api/referrals/", {"assigned": "national"}).json()["results"] == []


def test_a_bad_assignment_with_a_new_draft_writes_nothing(people):
    before = Referral.objects.count()
    # Each mistake named under assigned_by (the serializer's and the rule's alike), and no draft.
    for bad, field, message in (
        (handed(batch="  "), "batch", "请填写交办批次"),
        (handed(due=today() - days(1)), "report_due_on", "上报期限不能早于交办日期"),
        (handed(level="county"), "level", ""),
        (handed(batch="@SUM(A1)"), "batch", "不能以"),
    ):
        response = api(people.officer).post("/api/referrals/", new_draft_body(people, assigned_by=bad), format="json")
        assert response.status_code == 400, response.content
        assert message in response.json()["errors"][f"assigned_by.{field}"][0], bad
    assert Referral.objects.count() == before and not Assignment.objects.exists()


def test_a_draft_edit_does_not_silently_drop_an_assignment(people, story):
    draft = story.draft()
    # Found from outside: null was accepted and ignored.
    for value in (handed(), None):
        response = api(people.officer).patch(f"/api/referrals/{draft.pk}/", {"assigned_by": value}, format="json")
        assert response.status_code == 400, value
        assert f"/api/referrals/{draft.pk}/assignment/" in response.json()["errors"]["assigned_by"][0]
    assert not Assignment.objects.exists()


def test_recorded_later_corrected_until_reported_then_fixed(people, story):
    referral = story.succeeded()
    assert record(people.officer, referral).status_code == 200
    corrected = record(people.reviewer, referral, handed(due=today() + days(30), batch="2026年第3批"))
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["batch"] == "2026年第3批"
    assert Assignment.objects.filter(referral=referral).count() == 1
    second = events(referral, "record_assignment")[-1]
    assert second.data["previous"]["batch"] == "2026年第2批"

    done = report_back(people.officer, referral)
    assert done.status_code == 200, done.json()
    assert done.json()["assigned_by"]["reported_on"] == today().isoformat()
    assert "report_back" not in done.json()["available_actions"]
    # Reported: neither corrected nor reported again.
    again = record(people.officer, referral)
    assert again.status_code == 409 and "已上报办结" in again.json()["detail"]
    assert report_back(people.officer, referral).status_code == 409
    assert len(events(referral, "report_back")) == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"batch": "=cmd|' /C calc'!A0"}, "batch", "不能以"),
        ({"batch": "批" * 51}, "batch", ""),
        ({"level": "county"}, "level", ""),
        ({"assigned_on": "2999-01-01"}, "assigned_on", "不能晚于今天"),
        ({"report_due_on": "2001-01-01"}, "report_due_on", "不能早于交办日期"),
        ({"assigned_on": "2999-01-01", "report_due_on": "0001-01-01"}, "report_due_on", "请检查年份"),
    ],
)
def test_bad_assignments_are_refused_naming_the_field(people, story, change, field, message):
    referral = story.submitted()
    response = record(people.officer, referral, {**handed(), **change})
    assert response.status_code == 400, response.content
    assert message in response.json()["errors"][field][0]
    assert not Assignment.objects.exists() and not events(referral, "record_assignment")


def test_who_records_and_reports_and_who_only_sees(people, story):
    referral = story.succeeded()
    for persona in ("other_mediator", "outsider"):
        assert record(getattr(people, persona), referral).status_code == 404, persona
    for persona in ("mediator", "supervisor", "city"):
        assert record(getattr(people, persona), referral).status_code == 403, persona
    assert not Assignment.objects.exists()
    assert record(people.officer, referral).status_code == 200
    for persona in ("mediator", "supervisor", "city"):
        user = getattr(people, persona)
        assert report_back(user, referral).status_code == 403, persona
        assert detail(user, referral)["assigned_by"]["batch"] == "2026年第2批", persona
    assert report_back(people.outsider, referral).status_code == 404
    assert api(None).post(f"/api/referrals/{referral.pk}/assignment/", handed(), format="json").status_code == 401


def test_reporting_back_waits_for_the_end_of_the_mediation(people, story):
    referral = story.mediating()
    assert record(people.officer, referral).status_code == 200
    refused = report_back(people.officer, referral)
    assert refused.status_code == 409 and "调解结束或已办结" in refused.json()["detail"]
    # Without an assignment there is nothing to report.
    plain = story.closed()
    assert report_back(people.officer, plain).status_code == 409


def test_a_closed_referral_is_reported_with_the_report_as_sent(people, story):
    referral = story.closed()
    assert record(people.officer, referral).status_code == 200
    scan = SimpleUploadedFile("上报.pdf", minimal_pdf("report"), content_type="application/pdf")
    body = {"reported_on": today().isoformat(), "report": "已依法依规办结。", "file": scan}
    done = report_back(people.reviewer, referral, body, fmt="multipart")
    assert done.status_code == 200, done.json()
    url = done.json()["assigned_by"]["report_file"]
    assert url == f"/referrals/{referral.pk}/assignment/report/"
    # Whoever sees the referral may read the report; others get 404.
    for persona in ("officer", "mediator", "supervisor"):
        response = login(getattr(people, persona)).get(url)
        assert response.status_code == 200, persona
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert "上报.pdf" in response["Content-Disposition"] or "filename*" in response["Content-Disposition"]
    assert login(people.other_mediator).get(url).status_code == 404


def test_a_bad_report_writes_nothing(people, story):
    referral = story.succeeded()
    assert record(people.officer, referral, handed(on=today() - days(5))).status_code == 200
    cases = [
        ({"reported_on": today().isoformat(), "report": " "}, "report", "请填写上报内容"),
        ({"reported_on": (today() + days(1)).isoformat(), "report": "x"}, "reported_on", "不能晚于今天"),
        ({"reported_on": (today() - days(9)).isoformat(), "report": "x"}, "reported_on", "不能早于交办日期"),
    ]
    for body, field, message in cases:
        response = report_back(people.officer, referral, body)
        assert response.status_code == 400, (body, response.content)
        assert message in response.json()["errors"][field][0], body
    text = SimpleUploadedFile("report.pdf", b"just text, not a pdf", content_type="application/pdf")
    response = report_back(
        people.officer, referral, {"reported_on": today().isoformat(), "report": "x", "file": text}, fmt="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()["errors"]
    a = Assignment.objects.get(referral=referral)
    assert a.reported_on is None and not a.report and not a.report_file
    assert not events(referral, "report_back")


# --- The page -------------------------------------------------------------------------------------------


def test_the_referral_page_records_and_reports(people, story):
    referral = story.succeeded()
    url = f"/referrals/{referral.pk}/"
    page = login(people.officer).get(url).content.decode()
    assert "data-assignment-panel" in page and 'data-record="record_assignment"' in page
    assert "data-assignment-panel" not in login(people.mediator).get(url).content.decode()

    bad = login(people.officer).post(f"/referrals/{referral.pk}/actions/record_assignment/", handed(batch=""))
    assert bad.status_code == 400 and "交办批次" in bad.content.decode()
    assert not Assignment.objects.exists()
    done = login(people.officer).post(f"/referrals/{referral.pk}/actions/record_assignment/", handed())
    assert done.status_code == 302 and done["Location"] == url
    page = login(people.officer).get(url).content.decode()
    assert "2026年第2批" in page and "省信访局" in page and "上报办结" in page
    assert 'id="action-report_back"' in page or "action-report_back" in page
    shown = login(people.mediator).get(url).content.decode()
    assert "2026年第2批" in shown and 'data-record="record_assignment"' not in shown

    scan = SimpleUploadedFile("上报.pdf", minimal_pdf("report"), content_type="application/pdf")
    reported = login(people.reviewer).post(
        f"/referrals/{referral.pk}/actions/report_back/",
        {"reported_on": today().isoformat(), "report": "调解成功，已上报省信访局。", "file": scan},
    )
    assert reported.status_code == 302
    page = login(people.officer).get(url).content.decode()
    assert "data-reported" in page and "调解成功，已上报省信访局。" in page and "上报.pdf" in page


# --- The clock ------------------------------------------------------------------------------------------


def at_noon(day: datetime.date):
    return time_machine.travel(timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))), tick=False)


def titles(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("title", flat=True))


def test_the_report_day_is_announced_once_when_near_and_once_when_passed(people, story):
    referral = story.closed()
    due = today() + days(10)
    assignments.record_assignment(
        referral, by=people.officer, **{**PROVINCIAL, "assigned_on": today(), "report_due_on": due}
    )
    assert assignments.sweep_report_deadlines() == 0  # ten days off: nothing yet
    with at_noon(due - days(2)):
        assert assignments.sweep_report_deadlines() == 1
        assert assignments.sweep_report_deadlines() == 0  # once
    assert any("交办件上报期限将于" in t for t in titles(people.officer))
    assert not any("交办件" in t for t in titles(people.supervisor))
    with at_noon(due):
        assert assignments.sweep_report_deadlines() == 0  # the day itself is not late
    with at_noon(due + days(1)):
        assert assignments.sweep_report_deadlines() == 1
        assert assignments.sweep_report_deadlines() == 0
    # Escalated: the supervising bureau hears of it.
    assert any("交办件已超过上报期限" in t for t in titles(people.supervisor))
    assert DeadlineReminder.objects.filter(referral=referral, kind="report").count() == 2


def test_a_report_or_a_new_day_settles_the_clock(people, story):
    referral = story.succeeded()
    assignments.record_assignment(
        referral,
        by=people.officer,
        **{**PROVINCIAL, "assigned_on": today() - days(20), "report_due_on": today() - days(1)},
    )
    assert detail(people.officer, referral)["assigned_by"]["report_overdue"] is True
    # A corrected day earns fresh reminders; a report ends them.
    assignments.record_assignment(
        referral,
        by=people.officer,
        **{**PROVINCIAL, "assigned_on": today() - days(20), "report_due_on": today() + days(1)},
    )
    assert assignments.sweep_report_deadlines() == 1  # due soon for the new day
    assignments.report_back(referral, by=people.officer, reported_on=today(), report="已上报。")
    with at_noon(today() + days(5)):
        assert assignments.sweep_report_deadlines() == 0
    # The registered sweep is the one the minute loop runs.
    from referrals.reminders import run_sweeps

    assert "report_deadlines" in run_sweeps()


# --- The figures ----------------------------------------------------------------------------------------


@pytest.fixture
def scene(people, story):
    """At 蓬江区信访局: a provincial batch of three (closed and reported on time; closed, not reported and
    past its day; mediating, not due), a national batch of one (succeeded, reported late), one of last
    year, and 台山's own provincial case the county office cannot see."""
    on, passed = today() - days(30), today() - days(2)
    batch2 = {"level": "provincial", "batch": "2026年第2批", "assigned_on": on}
    cases = {
        "reported": story.closed(),
        "overdue": story.closed(),
        "pending": story.mediating(),
        "late": story.succeeded(),
    }
    assignments.record_assignment(cases["reported"], by=people.officer, report_due_on=passed, **batch2)
    assignments.record_assignment(cases["overdue"], by=people.officer, report_due_on=passed, **batch2)
    assignments.record_assignment(cases["pending"], by=people.officer, report_due_on=today() + days(30), **batch2)
    assignments.record_assignment(
        cases["late"], by=people.officer, level="national", batch="2026年第1批", assigned_on=on, report_due_on=passed
    )
    assignments.report_back(cases["reported"], by=people.reviewer, reported_on=passed, report="按期上报。")
    assignments.report_back(cases["late"], by=people.reviewer, reported_on=today(), report="逾期上报。")
    last_year = datetime.date(today().year - 1, 6, 1)
    old = story.mediating(received_on=last_year)
    assignments.record_assignment(
        old, by=people.officer, level="provincial", batch="去年第5批", assigned_on=last_year, report_due_on=last_year
    )
    taishan_office = f.org("台山市信访局")
    taishan_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(taishan_office, Role.OFFICER)])
    elsewhere = workflow.submit_referral(
        f.make_referral(taishan_officer, origin=taishan_office, target=people.taicheng), by=taishan_officer
    )
    assignments.record_assignment(elsewhere, by=taishan_officer, report_due_on=today() + days(30), **batch2)
    return {**cases, "old": old, "elsewhere": elsewhere}


def figures_of(user, **params) -> dict:
    response = api(user).get("/api/assignments/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_figures_by_level_and_batch_are_a_hand_count(people, scene):
    data = figures_of(people.officer, year=today().year)
    # By hand, 省信访局 2026年第2批: three cases; 调解结束 = the two closed; 已办结 2; 已上报 1 (on its day);
    # 逾期未上报 1 (closed, day passed); 逾期上报 0. 国家信访局 2026年第1批: one succeeded case, 调解结束 1,
    # 已办结 0, reported after its day: 已上报 1, 逾期上报 1. Last year's and 台山's are not counted.
    assert data["batches"] == [
        {
            "level": "national",
            "level_label": "国家信访局",
            "batch": "2026年第1批",
            "received": 1,
            "concluded": 1,
            "closed": 0,
            "reported": 1,
            "overdue": 0,
            "reported_late": 1,
        },
        {
            "level": "provincial",
            "level_label": "省信访局",
            "batch": "2026年第2批",
            "received": 3,
            "concluded": 2,
            "closed": 2,
            "reported": 1,
            "overdue": 1,
            "reported_late": 0,
        },
    ]
    assert data["totals"] == {
        "batches": 2,
        "received": 4,
        "concluded": 3,
        "closed": 2,
        "reported": 2,
        "overdue": 1,
        "reported_late": 1,
    }
    assert data["summary"] == (
        "国家信访局交办1批共1件，已办结0件，已上报1件，逾期未上报0件；"
        "省信访局交办1批共3件，已办结2件，已上报1件，逾期未上报1件"
    )
    # The city bureau sees 台山's case as well; every year adds last year's batch.
    city = figures_of(people.city, year=today().year)
    assert city["totals"]["received"] == 5
    assert figures_of(people.officer)["totals"]["received"] == 5
    assert figures_of(people.officer, level="national")["totals"]["received"] == 1
    assert figures_of(people.outsider)["batches"] == []


def test_the_lists_behind_the_figures(people, scene):
    def ids(**params) -> set[int]:
        response = api(people.officer).get("/api/referrals/", params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids(assigned="provincial", assigned_batch="2026年第2批") == {
        scene[k].pk for k in ("reported", "overdue", "pending")
    }
    assert ids(assigned="any", report="overdue") == {scene["overdue"].pk, scene["old"].pk}
    assert ids(assigned="national,provincial", report="reported") == {scene["reported"].pk, scene["late"].pk}
    assert ids(report="late") == {scene["late"].pk}
    assert ids(report="pending") == {scene["overdue"].pk, scene["pending"].pk, scene["old"].pk}
    for params, field in (({"assigned": "county"}, "assigned"), ({"report": "soon"}, "report")):
        response = api(people.officer).get("/api/referrals/", params)
        assert response.status_code == 400 and field in response.json()["errors"], params
    # Found from outside: an empty item named nothing in the message.
    empty = api(people.officer).get("/api/referrals/", {"assigned": ","})
    assert empty.status_code == 400 and "：," in empty.json()["errors"]["assigned"][0]
    assert api(people.officer).get("/api/assignments/", {"year": "26"}).status_code == 400
    assert api(people.officer).get("/api/assignments/", {"level": "county"}).status_code == 400


def test_the_page_and_the_dashboard_show_the_same_figures(people, scene):
    page = login(people.officer).get("/referrals/assigned/").content.decode()
    assert "data-assignment-table" in page and "2026年第2批" in page and "2026年第1批" in page
    assert 'data-figure="overdue" data-value="1"' in page and 'data-figure="received" data-value="4"' in page
    assert "去年第5批" not in page  # this year unless asked
    assert "去年第5批" in login(people.officer).get("/referrals/assigned/?year=").content.decode()
    bad = login(people.officer).get("/referrals/assigned/?year=abc").content.decode()
    assert "年度应为" in bad
    home = login(people.officer).get("/").content.decode()
    assert "data-dash-assignments" in home and "省信访局交办1批共3件" in home
    supervisor = login(people.supervisor).get("/").content.decode()
    assert "data-dash-assignments" in supervisor
    # Nobody's dashboard shows an empty card.
    assert "data-dash-assignments" not in login(people.other_mediator).get("/").content.decode()


def test_the_ledger_carries_the_assignment_and_the_leader(people, scene):
    from referrals import leader_cases
    from tests.referrals.test_exports import ledger, records

    leader_cases.assign_leader(
        scene["overdue"], by=people.officer, name="黄志坚", post="蓬江区委副书记", level="county", assigned_on=today()
    )
    _response, sheet = ledger(people.officer, assigned="provincial", assigned_batch="2026年第2批")
    rows = {r["编号"]: r for r in records(sheet)}
    assert set(rows) == {scene[k].number for k in ("reported", "overdue", "pending")}
    reported = rows[scene["reported"].number]
    assert (reported["交办单位"], reported["交办批次"]) == ("省信访局", "2026年第2批")
    assert reported["上报期限"].date() == today() - days(2) and reported["上报日期"].date() == today() - days(2)
    overdue = rows[scene["overdue"].number]
    assert overdue["上报日期"] is None and overdue["包案领导"] == "黄志坚（蓬江区委副书记，县级）"
    assert rows[scene["pending"].number]["包案领导"] in ("", None)


def test_the_leader_filter_and_the_home_pages_leader_card(people, story):
    from referrals import leader_cases

    on_list, taken_off, city_level = story.mediating(), story.mediating(), story.closed()
    story.mediating()  # on no list
    leader = {"name": "黄志坚", "post": "蓬江区委副书记", "assigned_on": today()}
    leader_cases.assign_leader(on_list, by=people.officer, level="county", **leader)
    leader_cases.assign_leader(taken_off, by=people.officer, level="county", **leader)
    leader_cases.remove_leader(taken_off, by=people.officer, reason="已化解")
    leader_cases.assign_leader(city_level, by=people.officer, level="city", **{**leader, "name": "林振华"})

    def ids(value: str) -> set[int]:
        response = api(people.officer).get("/api/referrals/", {"leader": value})
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids("any") == {on_list.pk, city_level.pk}
    assert ids("county") == {on_list.pk}
    assert ids("city,township") == {city_level.pk}
    assert api(people.officer).get("/api/referrals/", {"leader": "province"}).status_code == 400
    home = login(people.officer).get("/").content.decode()
    # 包案 2 (the one taken off is not counted), 已办结 1, 未办结 1.
    assert "data-dash-leaders" in home
    assert 'data-figure="cases" data-value="2"' in home and 'data-figure="closed" data-value="1"' in home
    assert "data-dash-leaders" in login(people.supervisor).get("/").content.decode()
    assert "data-dash-leaders" not in login(people.other_mediator).get("/").content.decode()
