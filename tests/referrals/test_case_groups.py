"""类案 groups: set up by a petition office or a justice bureau, referrals put in and taken out (kept),
working notes, the group page with every member's state and deadline — and never a member named to
someone who may not see it."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from referrals import case_groups, merging
from referrals.errors import Forbidden, InvalidInput
from referrals.models import CaseGroup, CaseGroupMember, TimelineEvent
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def create(user, **body):
    return api(user).post("/api/case-groups/", body, format="json")


@pytest.fixture
def group(people):
    return case_groups.create_group(
        by=people.officer,
        name="江南花园小区物业纠纷",
        lead_organisation=people.petition_office,
        description="小区业主与物业公司就公共收益分配发生纠纷，多户业主先后信访。",
        working_group="区信访局 陈晓敏（组长）；环市街道 黄丽华",
    )


def test_an_office_sets_up_a_group_and_puts_its_referrals_in(people, story):
    response = create(
        people.officer, name="江南花园小区物业纠纷", lead_organisation=people.petition_office.pk, working_group="陈晓敏"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["lead_organisation"]["name"], body["size"]) == (
        "江南花园小区物业纠纷",
        people.petition_office.name,
        0,
    )
    assert body["may_manage"] is True
    a, b = story.mediating(), story.submitted()
    for referral in (a, b):
        added = api(people.reviewer).post(f"/api/case-groups/{body['id']}/members/", {"referral": referral.pk})
        assert added.status_code == 201, added.json()
    detail = api(people.officer).get(f"/api/case-groups/{body['id']}/").json()
    assert [m["number"] for m in detail["members"]] == [a.number, b.number]
    assert [m["state"] for m in detail["members"]] == ["mediating", "submitted"]
    assert detail["members"][0]["deadline"]["kind"] == "mediate"
    assert detail["members"][1]["target"]["name"] == people.huanshi.name
    # Each join is a step of the referral: on its timeline, naming the group.
    event = TimelineEvent.objects.get(referral=a, action="join_case_group")
    assert event.note == "列入类案：江南花园小区物业纠纷" and event.get_action_label() == "列入类案"
    # Once only.
    again = api(people.officer).post(f"/api/case-groups/{body['id']}/members/", {"referral": a.pk})
    assert again.status_code == 400 and "referral" in again.json()["errors"]
    listed = api(people.officer).get("/api/case-groups/", {"referral": a.pk}).json()
    assert [g["id"] for g in listed] == [body["id"]] and listed[0]["size"] == 2


def test_bad_input_is_named_and_nothing_is_written(people):
    response = create(people.officer, name="  ", lead_organisation=people.bureau.pk, description="x" * 2001)
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"name", "description"}
    formula = create(people.officer, name="=HYPERLINK(1)", lead_organisation=people.petition_office.pk)
    assert formula.status_code == 400 and "name" in formula.json()["errors"]
    # An organisation that is not theirs: named, not created.
    with pytest.raises(InvalidInput) as caught:
        case_groups.create_group(by=people.officer, name="某征地项目", lead_organisation=people.bureau)
    assert "lead_organisation" in caught.value.errors
    assert not CaseGroup.objects.exists()


def test_a_justice_bureau_leads_a_group_across_its_townships(people, story):
    group = case_groups.create_group(by=people.supervisor, name="某征地项目", lead_organisation=people.bureau)
    referral = story.mediating()
    case_groups.join_case_group(referral, by=people.supervisor, group=group)
    assert case_groups.members(group, people.supervisor) == ([referral], 0)
    # The office sees the referral but does not see a group led by the bureau.
    assert api(people.officer).get(f"/api/case-groups/{group.pk}/").status_code == 404


def test_members_hidden_from_a_reader_are_counted_never_named(people, story, group):
    ours = story.mediating()
    # A referral the office sent to 台城: outside 环市's sight.
    theirs = story.submitted(target=people.taicheng)
    for referral in (ours, theirs):
        CaseGroupMember.objects.create(group=group, referral=referral, added_by=people.officer)
    mediator = api(people.mediator).get(f"/api/case-groups/{group.pk}/").json()
    assert [m["number"] for m in mediator["members"]] == [ours.number]
    assert mediator["hidden_members"] == 1 and mediator["may_manage"] is False
    page = login(people.mediator).get(f"/referrals/groups/{group.pk}/").content.decode()
    assert ours.number in page and theirs.number not in page and "另有1件案件您无权查看" in page
    # 台城's committee, holding the other, sees the group with its own referral only.
    other = api(people.other_mediator).get(f"/api/case-groups/{group.pk}/").json()
    assert [m["number"] for m in other["members"]] == [theirs.number] and other["hidden_members"] == 1
    # Someone with no part in any member does not see the group at all.
    assert api(people.outsider).get(f"/api/case-groups/{group.pk}/").status_code == 404
    assert login(people.outsider).get(f"/referrals/groups/{group.pk}/").status_code == 404
    assert api(people.outsider).get("/api/case-groups/").json() == []
    CaseGroupMember.objects.filter(referral=theirs).update(removed_at=theirs.created_at, removed_by=people.officer)
    assert api(people.other_mediator).get(f"/api/case-groups/{group.pk}/").status_code == 404


def test_taking_a_referral_out_needs_a_reason_and_is_kept(people, story, group):
    referral = story.mediating()
    case_groups.join_case_group(referral, by=people.officer, group=group)
    url = f"/api/case-groups/{group.pk}/members/{referral.pk}/"
    assert api(people.officer).delete(url, {"reason": " "}, format="json").status_code == 400
    assert api(people.mediator).delete(url, {"reason": "不是同一问题"}, format="json").status_code == 403
    assert api(people.officer).delete(url, {"reason": "不是同一问题"}, format="json").status_code == 204
    entry = CaseGroupMember.objects.get(group=group, referral=referral)
    assert (entry.reason, entry.removed_by) == ("不是同一问题", people.officer)
    assert api(people.officer).get(f"/api/case-groups/{group.pk}/").json()["members"] == []
    assert TimelineEvent.objects.filter(referral=referral, action="leave_case_group").count() == 1
    # Out already: said so; and it may come back in.
    assert api(people.officer).delete(url, {"reason": "重复"}, format="json").status_code == 400
    case_groups.join_case_group(referral, by=people.officer, group=group)
    assert CaseGroupMember.objects.filter(group=group, referral=referral).count() == 2


def test_only_its_managers_write_notes(people, group):
    url = f"/api/case-groups/{group.pk}/notes/"
    assert api(people.officer).post(url, {"text": "召开业主代表协调会。"}).status_code == 201
    assert api(people.supervisor).post(url, {"text": "督导"}).status_code == 403
    assert api(people.officer).post(url, {"text": ""}).status_code == 400
    with pytest.raises(Forbidden):
        case_groups.add_note(group, by=people.city, text="督导")
    notes = api(people.supervisor).get(f"/api/case-groups/{group.pk}/").json()["notes"]
    assert [(n["text"], n["by"]) for n in notes] == [("召开业主代表协调会。", "陈晓敏")]


def test_the_pages_set_up_a_group_add_by_number_and_say_each_mistake(people, story):
    officer = login(people.officer)
    page = officer.get("/referrals/groups/").content.decode()
    assert 'data-record="create_case_group"' in page and 'data-nav="case_groups"' in page
    refused = officer.post("/referrals/groups/", {"name": "", "lead_organisation": people.petition_office.pk})
    assert refused.status_code == 400 and "请填写类案名称" in refused.content.decode()
    done = officer.post("/referrals/groups/", {"name": "某征地项目", "lead_organisation": people.petition_office.pk})
    assert done.status_code == 302
    group = CaseGroup.objects.get(name="某征地项目")
    referral = story.submitted()
    unknown = officer.post(f"/referrals/groups/{group.pk}/members/", {"referral": "JM-2099-999999"})
    assert unknown.status_code == 400 and "未找到您可查看的案件：JM-2099-999999" in unknown.content.decode()
    assert (
        officer.post(f"/referrals/groups/{group.pk}/members/", {"referral": referral.number.lower()}).status_code == 302
    )
    page = officer.get(f"/referrals/groups/{group.pk}/").content.decode()
    assert f'data-member="{referral.pk}"' in page
    no_reason = officer.post(f"/referrals/groups/{group.pk}/members/{referral.pk}/remove/", {"reason": ""})
    assert no_reason.status_code == 400 and "请填写移出类案的原因" in no_reason.content.decode()
    assert officer.post(f"/referrals/groups/{group.pk}/notes/", {"text": "召开协调会"}).status_code == 302
    # The referral's page names its group and links to it.
    detail = officer.get(f"/referrals/{referral.pk}/").content.decode()
    assert "data-case-groups-panel" in detail and f"/referrals/groups/{group.pk}/" in detail


# --- The figures -----------------------------------------------------------------------------------


def test_the_figures_are_a_hand_count_of_what_the_reader_may_see(people, story, group):
    """Two groups of the county office: the estate (overdue submitted, mediating, succeeded, closed,
    failed, a merged duplicate, one taken out, one sent to 台城) and a second sharing the succeeded one."""
    with time_machine.travel(timezone.now() - datetime.timedelta(weeks=2)):
        overdue = story.submitted()  # its acceptance clock has run out
    scene = {
        "overdue": overdue,
        "mediating": story.mediating(),
        "succeeded": story.succeeded(),
        "closed": story.closed(),
        "failed": story.failed(),
        "duplicate": story.mediating(),
        "taken_out": story.mediating(),
        "taicheng": story.submitted(target=people.taicheng),
    }
    for referral in scene.values():
        case_groups.join_case_group(referral, by=people.officer, group=group)
    case_groups.leave_case_group(scene["taken_out"], by=people.officer, group=group, reason="不是同一问题")
    merging.merge_referral(scene["duplicate"], by=people.officer, into=scene["mediating"], reason="重复登记")
    second = case_groups.create_group(by=people.officer, name="某征地项目", lead_organisation=people.petition_office)
    case_groups.join_case_group(scene["succeeded"], by=people.officer, group=second)

    # By hand, for the office (sees all): the estate holds overdue, mediating, succeeded, closed, failed,
    # 台城's (the duplicate counts nowhere; the one taken out is out). Concluded: succeeded, closed, failed;
    # 化解: succeeded and closed (the closed story concluded with an agreement); open: all but closed.
    estate = {"cases": 6, "concluded": 3, "succeeded": 2, "closed": 1, "open": 5, "overdue": 1}
    listed = {g["name"]: g for g in api(people.officer).get("/api/case-groups/").json()}
    assert listed["江南花园小区物业纠纷"]["figures"] == estate
    assert listed["江南花园小区物业纠纷"]["hidden_members"] == 0
    land = {"cases": 1, "concluded": 1, "succeeded": 1, "closed": 0, "open": 1, "overdue": 0}
    assert listed["某征地项目"]["figures"] == land
    # Totals count the succeeded referral once, though it is in both groups: the estate's figures.
    totals = api(people.officer).get("/api/case-groups/figures/").json()
    assert totals["totals"] == {"groups": 2, **estate}
    assert totals["summary"].startswith("共有类案2个，涉及案件6件，已化解2件，已办结1件，未办结5件，其中已超期1件")

    # 环市's committee sees both groups (it mediates members of each) and counts its own members:
    # 台城's is hidden; the merged duplicate it may see counts neither as a case nor as hidden.
    mediator = {g["name"]: g for g in api(people.mediator).get("/api/case-groups/").json()}
    assert mediator["江南花园小区物业纠纷"]["figures"]["cases"] == 5
    assert mediator["江南花园小区物业纠纷"]["hidden_members"] == 1
    # 台城's committee sees the estate by its one member, and nothing of the other six (the merged one
    # among them, still a member, as the group page counts it).
    other = api(people.other_mediator).get("/api/case-groups/").json()
    assert [(g["name"], g["figures"]["cases"], g["hidden_members"]) for g in other] == [("江南花园小区物业纠纷", 1, 6)]
    group_page = api(people.other_mediator).get(f"/api/case-groups/{group.pk}/").json()
    assert group_page["hidden_members"] == 6

    # The group list page and the office's home page say the same numbers.
    page = login(people.officer).get("/referrals/groups/").content.decode()
    assert "共有类案2个，涉及案件6件" in page
    home = login(people.officer).get("/").content.decode()
    card = home[home.index("data-dash-case-groups") :]
    for key, value in {"groups": 2, "cases": 6, "succeeded": 2, "open": 5, "overdue": 1}.items():
        assert f'data-figure="{key}" data-value="{value}"' in card
    # Someone who sees no group: no card, empty figures.
    assert "data-dash-case-groups" not in login(people.outsider).get("/").content.decode()
    assert api(people.outsider).get("/api/case-groups/figures/").json()["totals"]["groups"] == 0


def test_the_ledger_names_each_referrals_groups_of_those_the_reader_may_see(people, story, group):
    from tests.referrals.test_exports import ledger, records

    referral, other = story.mediating(), story.mediating()
    case_groups.join_case_group(referral, by=people.officer, group=group)
    bureau_group = case_groups.create_group(by=people.supervisor, name="某征地项目", lead_organisation=people.bureau)
    case_groups.join_case_group(referral, by=people.supervisor, group=bureau_group)
    taken_out = story.mediating()
    case_groups.join_case_group(taken_out, by=people.officer, group=group)
    case_groups.leave_case_group(taken_out, by=people.officer, group=group, reason="不是同一问题")
    rows = {r["编号"]: r for r in records(ledger(people.supervisor)[1])}
    assert rows[referral.number]["类案"] == "江南花园小区物业纠纷；某征地项目"
    assert rows[other.number]["类案"] in ("", None) and rows[taken_out.number]["类案"] in ("", None)
    # The office does not see the bureau's group: its ledger does not name it.
    rows = {r["编号"]: r for r in records(ledger(people.officer)[1])}
    assert rows[referral.number]["类案"] == "江南花园小区物业纠纷"
