"""领导包案 (leader-in-charge cases, ``referrals/leader_cases.py``): the origin office puts a referral on
a year's list under a named leader and takes it off with a reason (kept, never deleted); the list's
figures per leader and in total — 包案, 调解结束, 已办结, 未办结, 已超期 — count only what the reader may
see; the page, the API and the workbook say the same."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import AccessLog
from referrals import leader_cases, workflow
from referrals.models import LeaderCase, Referral, TimelineEvent
from tests import factories as f
from tests.conftest import api, login
from tests.factories import today
from townships.models import Role

pytestmark = pytest.mark.django_db

COUNTY = {"name": "黄志坚", "post": "蓬江区委副书记", "level": "county"}
CITY = {"name": "林振华", "post": "江门市副市长", "level": "city"}
REASON = "矛盾已基本化解，调整出年度包案名单。"


def body(leader: dict, on: datetime.date | None = None) -> dict:
    return {**leader, "assigned_on": (on or today()).isoformat()}


def assign(user, referral: Referral, leader: dict = COUNTY, on: datetime.date | None = None):
    return api(user).post(f"/api/referrals/{referral.pk}/leader/", body(leader, on), format="json")


def remove(user, referral: Referral, data=None):
    return api(user).delete(f"/api/referrals/{referral.pk}/leader/", data, format="json")


def detail(user, referral: Referral) -> dict:
    response = api(user).get(f"/api/referrals/{referral.pk}/")
    assert response.status_code == 200
    return response.json()


def events(referral: Referral, action: str) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(referral=referral, action=action).order_by("id"))


def weeks_ago(weeks: int):
    """Noon in Jiangmen, ``weeks`` ago."""
    day = today() - datetime.timedelta(weeks=weeks)
    return time_machine.travel(timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))), tick=False)


# --- Writing the list ----------------------------------------------------------------------------


def test_the_office_puts_a_referral_on_the_list_and_takes_it_off_with_a_reason_kept(people, story):
    referral = story.mediating()
    response = assign(people.officer, referral)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        **COUNTY,
        "level_label": "县级",
        "assigned_on": today().isoformat(),
        "year": today().year,
    }
    leader = detail(people.officer, referral)["leader"]
    assert leader["name"] == "黄志坚" and leader["post"] == "蓬江区委副书记" and leader["level"] == "county"
    assert leader["assigned_on"] == today().isoformat()
    # The referral's list rows carry no leader (a query per row): the detail does.
    rows = api(people.officer).get("/api/referrals/").json()["results"]
    assert next(r for r in rows if r["id"] == referral.pk)["leader"] is None
    # The timeline says who put it on the list, under whom.
    [event] = events(referral, "assign_leader")
    assert event.actor == people.officer and event.get_action_label() == "列入领导包案"
    assert event.data["name"] == "黄志坚" and event.data["level"] == "county" and event.data["year"] == today().year
    assert event.from_state == event.to_state == "mediating"

    # A reviewer of the same office takes it off, with the reason.
    assert remove(people.reviewer, referral, {"reason": REASON}).status_code == 204
    assert detail(people.officer, referral)["leader"] is None
    entry = LeaderCase.objects.get(referral=referral)  # kept, not deleted
    assert (entry.removed_on, entry.removed_by, entry.reason) == (today(), people.reviewer, REASON)
    [event] = events(referral, "remove_leader")
    assert event.note == REASON and event.actor == people.reviewer and event.data["removed_on"] == today().isoformat()

    # Back on a list later: a new entry beside the one taken off.
    assert assign(people.reviewer, referral, CITY).status_code == 201
    assert LeaderCase.objects.filter(referral=referral).count() == 2
    assert detail(people.officer, referral)["leader"]["name"] == "林振华"


def test_taking_a_case_off_without_a_reason_is_refused_and_nothing_is_written(people, story):
    referral = story.submitted()
    assert assign(people.officer, referral).status_code == 201
    before = TimelineEvent.objects.filter(referral=referral).count()
    for data in (None, {}, {"reason": ""}, {"reason": "   "}, {"reason": None}):
        response = remove(people.officer, referral, data)
        assert response.status_code == 400, (data, response.content)
        payload = response.json()
        assert payload["code"] == "invalid"
        assert payload["errors"]["reason"] == ["请填写撤出包案的原因。"], data
    assert TimelineEvent.objects.filter(referral=referral).count() == before
    entry = LeaderCase.objects.get(referral=referral)
    assert entry.removed_on is None and entry.removed_by is None and entry.reason == ""


def test_one_active_entry_per_referral(people, story):
    referral = story.submitted()
    assert assign(people.officer, referral).status_code == 201
    second = assign(people.reviewer, referral, CITY)
    assert second.status_code == 409 and second.json()["code"] == "not_available"
    assert "先撤出" in second.json()["detail"]
    assert LeaderCase.objects.filter(referral=referral).count() == 1
    # Taking off what is on no list is 409 as well.
    other = story.submitted()
    assert remove(people.officer, other, {"reason": REASON}).status_code == 409
    # And the database holds the line whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        LeaderCase.objects.create(
            referral=referral, year=today().year, assigned_on=today(), assigned_by=people.officer, **CITY
        )


def test_who_may_keep_the_list_and_who_only_sees_it(people, story):
    referral = story.submitted()
    # Cannot see the referral: 404, for adding and for taking off alike.
    for persona in ("other_mediator", "outsider"):
        user = getattr(people, persona)
        assert assign(user, referral).status_code == 404, persona
        assert remove(user, referral, {"reason": REASON}).status_code == 404, persona
    # Sees it, but the list is the petition office's: 403 (the committee, the county and city bureaus).
    for persona in ("mediator", "supervisor", "city"):
        assert assign(getattr(people, persona), referral).status_code == 403, persona
    assert LeaderCase.objects.count() == 0
    assert assign(people.officer, referral).status_code == 201
    for persona in ("mediator", "supervisor", "city"):
        user = getattr(people, persona)
        assert remove(user, referral, {"reason": REASON}).status_code == 403, persona
        # ... and sees the leader with the referral.
        assert detail(user, referral)["leader"]["name"] == "黄志坚", persona
    assert api(None).delete(f"/api/referrals/{referral.pk}/leader/").status_code == 401
    assert LeaderCase.objects.get(referral=referral).removed_on is None


def test_a_draft_is_the_offices_own_and_may_be_listed(people, story):
    draft = story.draft()
    assert assign(people.supervisor, draft).status_code == 404
    assert assign(people.officer, draft).status_code == 201


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "请填写包案领导的姓名"),
        ({"name": "=HYPERLINK(1)"}, "name", "不能以"),
        ({"post": "+1"}, "post", "不能以"),
        ({"level": "province"}, "level", ""),
        ({"assigned_on": "2999-01-01"}, "assigned_on", "不能晚于今天"),
        ({"assigned_on": "2001-01-01"}, "assigned_on", "不能早于信访登记日期"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(people, story, change, field, message):
    referral = story.submitted()
    response = api(people.officer).post(
        f"/api/referrals/{referral.pk}/leader/", {**body(COUNTY), **change}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["errors"][field][0]
    assert not LeaderCase.objects.exists() and not events(referral, "assign_leader")


# --- The referral page -----------------------------------------------------------------------------


def test_the_referral_page_shows_the_leader_and_its_forms_to_those_who_keep_the_list(people, story):
    referral = story.mediating()
    url = f"/referrals/{referral.pk}/"
    page = login(people.officer).get(url).content.decode()
    assert "data-leader-panel" in page and "本案未列入领导包案" in page
    assert 'data-record="assign_leader"' in page and 'data-record="remove_leader"' not in page
    # The committee sees nothing of an empty list and has no form.
    assert "data-leader-panel" not in login(people.mediator).get(url).content.decode()

    response = login(people.officer).post(
        f"/referrals/{referral.pk}/actions/assign_leader/", {**body(COUNTY), "assigned_on": today().isoformat()}
    )
    assert response.status_code == 302 and response["Location"] == url
    page = login(people.reviewer).get(url).content.decode()
    assert "data-leader-active" in page and "黄志坚（蓬江区委副书记）" in page and "县级" in page
    assert 'data-record="assign_leader"' not in page and 'data-record="remove_leader"' in page
    shown = login(people.mediator).get(url).content.decode()
    assert "黄志坚（蓬江区委副书记）" in shown and 'data-record="remove_leader"' not in shown
    assert (
        login(people.mediator).post(f"/referrals/{referral.pk}/actions/remove_leader/", {"reason": REASON}).status_code
        == 403
    )

    # Without a reason: the page again, the message at the field, nothing written.
    refused = login(people.reviewer).post(f"/referrals/{referral.pk}/actions/remove_leader/", {"reason": ""})
    assert refused.status_code == 400
    assert "请填写撤出包案的原因。" in refused.content.decode()
    assert LeaderCase.objects.get(referral=referral).removed_on is None
    assert not events(referral, "remove_leader")

    done = login(people.reviewer).post(f"/referrals/{referral.pk}/actions/remove_leader/", {"reason": REASON})
    assert done.status_code == 302
    page = login(people.officer).get(url).content.decode()
    assert "data-leader-history" in page and REASON in page and "本案未列入领导包案" in page
    # Both steps are on the timeline.
    assert "列入领导包案" in page and "撤出领导包案" in page


def test_a_bad_entry_on_the_page_is_shown_with_its_mistake(people, story):
    referral = story.submitted()
    response = login(people.officer).post(
        f"/referrals/{referral.pk}/actions/assign_leader/", {**body(COUNTY), "post": "-1"}
    )
    assert response.status_code == 400
    assert "职务不能以 =、+、-、@ 开头。" in response.content.decode()
    assert not LeaderCase.objects.exists()


# --- The list's figures ----------------------------------------------------------------------------


@pytest.fixture
def scene(people, story):
    """Two leaders' cases of this year at 蓬江区信访局 — open, overdue, concluded and closed — plus one
    taken off, one of last year, and one of another office's (台山) that the county office cannot see."""
    with weeks_ago(2):
        overdue_submitted = story.submitted()  # the acceptance clock has run out
    with weeks_ago(6):
        overdue_mediating = story.mediating()  # the mediation clock has run out
    cases = {
        "county": {
            "mediating": story.mediating(),
            "succeeded": story.succeeded(),
            "closed": story.closed(),
            "overdue_submitted": overdue_submitted,
        },
        "city": {
            "failed": story.failed(),
            "overdue_mediating": overdue_mediating,
            "closed": story.closed(),
        },
    }
    for leader, referrals in (("county", cases["county"]), ("city", cases["city"])):
        for referral in referrals.values():
            leader_cases.assign_leader(
                referral, by=people.officer, assigned_on=today(), **(COUNTY if leader == "county" else CITY)
            )
    taken_off = story.mediating()
    leader_cases.assign_leader(taken_off, by=people.officer, assigned_on=today(), **COUNTY)
    leader_cases.remove_leader(taken_off, by=people.reviewer, reason=REASON)
    last_year = datetime.date(today().year - 1, 6, 1)
    old = story.mediating(received_on=last_year)
    leader_cases.assign_leader(old, by=people.officer, assigned_on=last_year, **COUNTY)
    # Another county's petition office and its case, on the city leader's list.
    taishan_office = f.org("台山市信访局")
    taishan_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(taishan_office, Role.OFFICER)])
    elsewhere = workflow.submit_referral(
        f.make_referral(taishan_officer, origin=taishan_office, target=people.taicheng), by=taishan_officer
    )
    leader_cases.assign_leader(elsewhere, by=taishan_officer, assigned_on=today(), **CITY)
    return {**cases, "taken_off": taken_off, "old": old, "elsewhere": elsewhere}


def figures_of(user, **params) -> dict:
    response = api(user).get("/api/leader-cases/", params)
    assert response.status_code == 200, response.content
    return response.json()


def by_leader(data: dict) -> dict[str, dict]:
    return {
        row["name"]: {k: row[k] for k in ("cases", "concluded", "closed", "open", "overdue")} for row in data["leaders"]
    }


def test_the_figures_are_a_hand_count_of_what_the_reader_may_see(people, scene):
    assert scene["county"]["overdue_submitted"].deadline_status() == "overdue"
    assert scene["city"]["overdue_mediating"].deadline_status() == "overdue"
    data = figures_of(people.officer, year=today().year)
    # By hand: 黄志坚 (县级) — mediating, succeeded, closed, overdue submitted:
    #   调解结束 = succeeded + closed (concluded first) = 2; 已办结 = 1; 未办结 = 3; 已超期 = 1.
    # 林振华 (市级) — failed, overdue mediating, closed (+ 台山's case, not the officer's to see):
    #   调解结束 = failed + closed = 2; 已办结 = 1; 未办结 = 2; 已超期 = 1.
    # The case taken off and last year's are not counted.
    assert by_leader(data) == {
        "黄志坚": {"cases": 4, "concluded": 2, "closed": 1, "open": 3, "overdue": 1},
        "林振华": {"cases": 3, "concluded": 2, "closed": 1, "open": 2, "overdue": 1},
    }
    assert [row["level"] for row in data["leaders"]] == ["city", "county"]  # 市级 first
    assert data["totals"] == {"leaders": 2, "cases": 7, "concluded": 4, "closed": 2, "open": 5, "overdue": 2}
    assert data["totals"]["cases"] == data["totals"]["closed"] + data["totals"]["open"]
    assert data["summary"].startswith("共包案7宗，目前已办结2宗，未办结5宗")
    county = next(row for row in data["leaders"] if row["name"] == "黄志坚")
    assert {c["id"] for c in county["referrals"]} == {r.pk for r in scene["county"].values()}
    overdue = {c["id"] for row in data["leaders"] for c in row["referrals"] if c["overdue"]}
    assert overdue == {scene["county"]["overdue_submitted"].pk, scene["city"]["overdue_mediating"].pk}
    # The entry taken off is listed apart, with its reason.
    [removed] = data["removed"]
    assert removed["referral"]["id"] == scene["taken_off"].pk and removed["reason"] == REASON
    assert removed["removed_by"]["name"] == "李国强"


def test_the_city_bureau_counts_the_other_countys_case_and_a_committee_only_its_own(people, scene):
    city = by_leader(figures_of(people.city, year=today().year))
    assert city["林振华"]["cases"] == 4 and city["林振华"]["open"] == 3  # + 台山's submitted case
    assert city["黄志坚"]["cases"] == 4
    # The 蓬江 committee sees what was referred to it: every 蓬江 case (all went to 环市).
    mediator = by_leader(figures_of(people.mediator, year=today().year))
    assert mediator["林振华"]["cases"] == 3
    # The 台城 committee sees only 台山's case; someone with no organisation sees nothing.
    assert by_leader(figures_of(people.other_mediator, year=today().year)) == {
        "林振华": {"cases": 1, "concluded": 0, "closed": 0, "open": 1, "overdue": 0}
    }
    outsider = figures_of(people.outsider)
    assert outsider["leaders"] == [] and outsider["removed"] == [] and outsider["totals"]["cases"] == 0


def test_the_year_level_and_region_filters(people, scene):
    this_year = today().year
    assert figures_of(people.officer, year=this_year - 1)["totals"]["cases"] == 1
    assert by_leader(figures_of(people.officer, year=this_year - 1)) == {
        "黄志坚": {"cases": 1, "concluded": 0, "closed": 0, "open": 1, "overdue": 0}
    }
    # No year: every year.
    assert figures_of(people.officer)["totals"]["cases"] == 8
    assert set(by_leader(figures_of(people.officer, year=this_year, level="city"))) == {"林振华"}
    assert set(by_leader(figures_of(people.officer, year=this_year, level="county"))) == {"黄志坚"}
    assert figures_of(people.officer, year=this_year, level="township")["leaders"] == []
    # Region: where the referral is handled (every 蓬江 case went to 环市街道; 台山's to 台城).
    assert figures_of(people.city, year=this_year, region="440781")["totals"]["cases"] == 1
    assert figures_of(people.city, year=this_year, region="440703006")["totals"]["cases"] == 7
    for params, field in (({"year": "26"}, "year"), ({"level": "province"}, "level"), ({"region": "江门"}, "region")):
        response = api(people.officer).get("/api/leader-cases/", params)
        assert response.status_code == 400 and field in response.json()["errors"], params


def test_the_page_shows_the_same_figures_and_defaults_to_this_year(people, scene):
    client = login(people.officer)
    page = client.get("/referrals/leaders/").content.decode()
    assert "共包案7宗，目前已办结2宗，未办结5宗" in page
    for key, value in {"cases": 7, "concluded": 4, "closed": 2, "open": 5, "overdue": 2}.items():
        assert f'data-figure="{key}" data-value="{value}"' in page, key
    assert scene["county"]["closed"].number in page and REASON in page
    # Every year, and a level.
    assert "共包案8宗" in client.get("/referrals/leaders/?year=").content.decode()
    assert "共包案3宗" in client.get(f"/referrals/leaders/?year={today().year}&level=city").content.decode()
    bad = client.get("/referrals/leaders/?level=province")
    assert bad.status_code == 400 and "未知的包案层级" in bad.content.decode()


def test_the_navigation_links_the_page_for_petition_offices_and_supervisors(people):
    for persona in ("officer", "reviewer", "supervisor", "city"):
        assert 'data-nav="leader_cases"' in login(getattr(people, persona)).get("/").content.decode(), persona
    for persona in ("mediator", "outsider"):
        assert 'data-nav="leader_cases"' not in login(getattr(people, persona)).get("/").content.decode(), persona


# --- The workbook ------------------------------------------------------------------------------------


def test_the_export_has_the_list_per_leader_every_case_and_those_taken_off(people, scene):
    # A reason a spreadsheet would run as a formula is written as text.
    formula = '=HYPERLINK("http://example.com","点击")'
    extra = scene["county"]["mediating"]
    leader_cases.remove_leader(extra, by=people.officer, reason=formula)
    response = api(people.officer).get("/api/exports/leader-cases.xlsx", {"year": today().year})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["包案汇总", "包案明细", "已撤出"]
    summary = [list(r) for r in book["包案汇总"].iter_rows(min_row=2, values_only=True)]
    assert summary[0] == ["层级", "包案领导", "职务", "包案", "调解结束", "已办结", "未办结", "已超期"]
    assert summary[1:4] == [
        ["市级", "林振华", "江门市副市长", 3, 2, 1, 2, 1],
        ["县级", "黄志坚", "蓬江区委副书记", 3, 2, 1, 2, 1],
        ["合计", None, None, 6, 4, 2, 4, 2],
    ]
    cases = list(book["包案明细"].iter_rows(min_row=2, values_only=True))
    numbers = {row[5] for row in cases}
    assert numbers == {r.number for k in ("county", "city") for r in scene[k].values() if r != extra}
    assert all(row[0] == today().year for row in cases)
    removed = {row[5]: row for row in book["已撤出"].iter_rows(min_row=2, values_only=True)}
    assert set(removed) == {scene["taken_off"].number, extra.number}
    assert removed[scene["taken_off"].number][8] == REASON
    cell = next(c for c in book["已撤出"]["I"] if c.value == formula)
    assert cell.data_type == "s" and cell.quotePrefix
    # Written to the read audit, like the ledger.
    log = AccessLog.objects.get(action=AccessLog.Action.EXPORT_LEDGER)
    assert (
        log.user == people.officer and log.detail["rows"] == 8 and log.detail["filters"] == {"year": str(today().year)}
    )


def test_the_export_refuses_bad_parameters(people):
    response = api(people.officer).get("/api/exports/leader-cases.xlsx", {"level": "x"})
    assert response.status_code == 400 and "level" in response.json()["errors"]
