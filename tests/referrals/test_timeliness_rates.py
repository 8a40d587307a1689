"""The timeliness rates count what was due, not only what was finished: a scene counted by hand.

Six referrals, all sent to 环市 on Monday 2 March 2026 (acceptance deadline: Thursday 5 March,
3 working days), looked at on Monday 20 April 2026:

    A  accepted 3 Mar (on time), terminated 10 Mar (on time), closed 11 Mar (review on time)
    B  accepted 9 Mar (late), still mediating: due 8 Apr, so overdue in mediation
    C  returned 4 Mar (on time), then left with the office: review due 11 Mar, overdue
    D  never answered: overdue for acceptance; received 10 Jan, so past its petition deadline too
    E  accepted 3 Mar, suspended 5 Mar and never resumed: its clock stands still, never late
    F  accepted 3 Mar, terminated 15 Apr (late: due 2 Apr), review due 22 Apr: not yet late

By hand:
    及时受理率  answered on time A C E F = 4 ÷ (answered A B C E F = 5 + not answered past due D = 1) = 4/6
    按期调结率  on time A = 1 ÷ (concluded A F = 2 + mediating past due B = 1) = 1/3
    按期办结率  on time A = 1 ÷ (closed A = 1 + waiting for review past due C = 1) = 1/2
    信访按期办结率 A = 1 ÷ (closed A = 1 + open past the petition deadline D = 1) = 1/2
Over the finished ones alone, as before, they read 4/5, 1/2, 1/1 and 1/1.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from mediation.workflow import add_attachment, fail_referral, record_session
from referrals import workflow
from tests.conftest import api, login
from tests.files import pdf_upload
from tests.referrals.test_stats_support import figure_links, listed, tiles_of

pytestmark = pytest.mark.django_db


def at(moment: str):
    return time_machine.travel(timezone.make_aware(datetime.datetime.fromisoformat(moment)), tick=False)


def story_terminate(p, r):
    record_session(
        r,
        by=p.mediator,
        held_on=timezone.localdate(),
        location="村委会调解室",
        participants="双方当事人",
        record="双方意见分歧较大。",
    )
    return fail_referral(r, by=p.mediator, reason="views_too_far_apart", routes_explained=["litigation"])


@pytest.fixture
def scene(people, story):
    p = people
    with at("2026-03-02 10:00"):
        a, b, c, e, f = (story.submitted(received_on=datetime.date(2026, 3, 2)) for _ in range(5))
        story.submitted(received_on=datetime.date(2026, 1, 10))  # D: never answered

    def accept(r):
        return workflow.accept_referral(r, by=p.mediator, mediators=[p.lead, p.second], rights_explained=True)

    def terminate(r):
        return story_terminate(p, r)

    with at("2026-03-03 11:00"):
        a, e, f = accept(a), accept(e), accept(f)
    with at("2026-03-04 11:00"):
        workflow.decline_referral(c, by=p.mediator, reason="party_refused")
    with at("2026-03-05 11:00"):
        workflow.suspend_referral(e, by=p.mediator, reason="等待伤情鉴定结果")
    with at("2026-03-09 11:00"):
        accept(b)
    with at("2026-03-10 15:00"):
        a = terminate(a)
    with at("2026-03-11 09:00"):
        add_attachment(a, by=p.mediator, kind="identity_proof", upload=pdf_upload())
        workflow.close_referral(a, by=p.reviewer, note="同意办结。")
    with at("2026-04-15 15:00"):
        terminate(f)
    return p


EXPECTED = {
    "answered_on_time": 4,
    "answered": 5,
    "accept_overdue": 1,
    "acceptance_due": 6,
    "timely_acceptance_rate": round(4 / 6, 4),
    "concluded_on_time": 1,
    "concluded": 2,
    "mediate_overdue": 1,
    "conclusion_due": 3,
    "on_time_conclusion_rate": round(1 / 3, 4),
    "closed_on_time": 1,
    "closed": 1,
    "review_overdue": 1,
    "closing_due": 2,
    "closed_on_time_rate": 0.5,
    "petition_on_time": 1,
    "petition_overdue": 1,
    "petition_due": 2,
    "petition_on_time_rate": 0.5,
}


def test_each_rate_counts_the_late_open_cases_in_its_denominator(scene):
    with at("2026-04-20 10:00"):
        response = api(scene.supervisor).get("/api/stats/summary/", {"region": "440703"})
    assert response.status_code == 200, response.content
    figures = response.json()["figures"]
    assert {k: figures[k] for k in EXPECTED} == EXPECTED


def test_the_rate_tiles_show_on_time_due_and_late_and_each_opens_exactly_those(scene):
    with at("2026-04-20 10:00"):
        page = login(scene.supervisor).get("/").content.decode()
        tiles = tiles_of(page)
        assert tiles["timely_acceptance_rate"]["data-value"] == str(round(4 / 6, 4))
        parts = {link["data-figure"]: link for link in figure_links(page) if link.get("data-part")}
        assert {k: int(parts[k]["data-value"]) for k in parts} == {
            "answered_on_time": 4,
            "acceptance_due": 6,
            "acceptance_late": 2,
            "concluded_on_time": 1,
            "conclusion_due": 3,
            "conclusion_late": 2,
            "closed_on_time": 1,
            "closing_due": 2,
            "closing_late": 1,
            "petition_on_time": 1,
            "petition_due": 2,
            "petition_late": 1,
        }
        for key, link in parts.items():
            assert listed(scene.supervisor, link["href"]) == int(link["data-value"]), key
        # The rate itself opens what was due.
        assert listed(scene.supervisor, tiles["timely_acceptance_rate"]["href"]) == 6


def test_a_stage_ended_late_is_late_even_once_the_case_moves_on(scene):
    # B, accepted late, concludes on time; it stays late for acceptance, and is no longer overdue.
    from referrals.models import Referral

    b = Referral.objects.get(accepted_at__date=datetime.date(2026, 3, 9))
    with at("2026-04-21 10:00"):
        story_terminate(scene, b)
        figures = api(scene.supervisor).get("/api/stats/summary/", {"region": "440703"}).json()["figures"]
    assert (figures["answered_on_time"], figures["acceptance_due"]) == (4, 6)
    assert (figures["concluded_on_time"], figures["conclusion_due"], figures["mediate_overdue"]) == (1, 3, 0)
