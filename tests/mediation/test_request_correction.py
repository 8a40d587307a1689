"""The hand-off to review (issue 16 §1): the committee sees what the dossier still lacks as its task,
with the upload right there; the reviewer may send the dossier back (退回补正) with its own short
clock, answered item by item by the committee's uploads; the reviewer may upload too."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation.models import Attachment, CorrectionRequest
from mediation.notices import Notice
from mediation.workflow import add_attachment, request_correction
from notifications.models import Notification
from referrals import workflow
from referrals.deadlines import correction_due
from referrals.errors import Forbidden, NotAvailable
from referrals.models import Referral, State, TimelineEvent
from referrals.reminders import run_sweeps
from tests.conftest import api, login
from tests.factories import day
from tests.files import exe_upload, pdf_upload
from tests.mediation.conftest import act, codes, post
from townships.calendar import add_working_days

pytestmark = pytest.mark.django_db


def section(html: str, marker: str) -> str:
    start = html.index(marker)
    return html[start : html.index("</section>", start)]


def actions_card(client, referral) -> str:
    return section(client.get(f"/referrals/{referral.pk}/").content.decode(), 'id="actions"')


def ask(people, referral, items, note: str = "身份证明复印件不清晰，请重新上传。"):
    return act(people.reviewer, referral.pk, "request_correction", {"items": items, "note": note})


def upload(user, referral, kind: str, file=None):
    return post(user, referral.pk, "attachments/", {"kind": kind, "file": file or pdf_upload()}, multipart=True)


def notices(kind: str) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(kind=kind).values_list("recipient__username", "title"))


# --- The committee's task ----------------------------------------------------------------------------


def test_after_concluding_the_committee_is_shown_what_the_dossier_lacks_with_the_upload_there(people, story):
    referral = story.succeeded(form="written")
    card = actions_card(login(people.mediator), referral)
    assert "当前没有需要您办理的事项" not in card
    task = card[card.index('data-task="dossier"') :]
    assert "卷宗待补充：" in task
    assert "当事人身份证明、调解协议书" in task
    # The upload is right there: a file field, posted to the add_attachment action.
    assert f'action="/referrals/{referral.pk}/actions/add_attachment/"' in task
    assert 'type="file"' in task
    options = re.findall(r'<option value="([a-z_]+)"', task[: task.index("</form>")])
    assert options == ["identity_proof", "agreement"]


def test_the_task_goes_once_the_dossier_is_complete(people, story):
    referral = story.succeeded()  # oral: only the identity proof is wanted
    client = login(people.mediator)
    assert "卷宗待补充" in actions_card(client, referral)
    response = client.post(
        f"/referrals/{referral.pk}/actions/add_attachment/", {"kind": "identity_proof", "file": pdf_upload()}
    )
    assert response.status_code == 302
    card = actions_card(client, referral)
    assert "卷宗待补充" not in card
    assert "当前没有需要您办理的事项" in card


def test_only_the_handling_committee_gets_the_task(people, story):
    referral = story.succeeded()
    for user in (people.officer, people.reviewer, people.supervisor):
        assert 'data-task="dossier"' not in login(user).get(f"/referrals/{referral.pk}/").content.decode()


def test_the_conclusion_form_takes_the_signed_scan_and_the_dossier_has_it(people, story):
    referral = story.with_session()
    client = login(people.mediator)
    form = section(client.get(f"/referrals/{referral.pk}/").content.decode(), 'id="actions"')
    assert 'name="scan"' in form[form.index('data-action="succeed"') :]
    response = client.post(
        f"/referrals/{referral.pk}/actions/succeed/",
        {
            "form": "written",
            "terms": "被申请人赔偿500元。",
            "performance_method": "现金支付",
            "performance_due": day(5),
            "signed_on": day(),
            "scan": pdf_upload("调解协议书.pdf"),
        },
    )
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).state == State.SUCCEEDED
    scan = Attachment.objects.get(referral=referral)
    assert (scan.kind, scan.original_name) == ("agreement", "调解协议书.pdf")
    wanted = re.search(r"<span data-task-items>([^<]*)</span>", actions_card(client, referral)).group(1)
    assert wanted == "当事人身份证明"


def test_a_refused_scan_refuses_the_conclusion_and_writes_nothing(people, story):
    referral = story.with_session()
    response = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/succeed/",
        {
            "form": "oral",
            "terms": "赔偿500元。",
            "performance_method": "现金",
            "performance_due": day(),
            "scan": exe_upload(),
        },
    )
    assert response.status_code == 400
    assert "不支持的文件类型" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).state == State.MEDIATING
    assert not Attachment.objects.exists()


# --- 退回补正 through the API ------------------------------------------------------------------------


def test_the_reviewer_sends_the_dossier_back_and_the_committee_answers_item_by_item(people, story):
    referral = story.succeeded(form="written")
    assert codes(act(people.reviewer, referral.pk, "close", {"note": "同意办结"})) == [
        "dossier:identity_proof",
        "dossier:agreement",
    ]
    response = ask(people, referral, ["identity_proof", "agreement"])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "succeeded"  # the referral stays concluded, awaiting review
    due = correction_due(timezone.localdate())
    assert body["correction"]["due_on"] == due.date.isoformat()
    assert [i["item"] for i in body["correction"]["items"]] == ["identity_proof", "agreement"]
    assert body["correction"]["outstanding"] == ["identity_proof", "agreement"]
    event = TimelineEvent.objects.filter(referral=referral).last()
    assert (event.action, event.get_action_label()) == ("request_correction", "退回补正")
    assert "当事人身份证明、调解协议书" in event.note and "不清晰" in event.note
    assert [u for u, _t in notices(Notice.CORRECTION_REQUESTED)] == ["mediator"]

    # The first paper: received, the request still open, nobody told yet.
    assert upload(people.mediator, referral, "identity_proof").status_code == 201
    request = CorrectionRequest.objects.get(referral=referral)
    assert (request.received, request.answered_at) == (["identity_proof"], None)
    assert notices(Notice.CORRECTION_ANSWERED) == []
    # A paper nobody asked for changes nothing.
    assert upload(people.mediator, referral, "evidence").status_code == 201
    request.refresh_from_db()
    assert request.received == ["identity_proof"]
    # The last one answers it and the reviewer hears of it.
    assert upload(people.mediator, referral, "agreement").status_code == 201
    request.refresh_from_db()
    assert request.answered and request.outstanding == []
    assert [u for u, _t in notices(Notice.CORRECTION_ANSWERED)] == ["reviewer"]
    assert api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()["correction"]["answered_at"]
    assert act(people.reviewer, referral.pk, "close", {"note": "卷宗齐全，同意办结"}).status_code == 200


def test_the_reviewer_may_upload_a_paper_and_it_counts(people, story):
    referral = story.succeeded()
    assert ask(people, referral, ["identity_proof"]).status_code == 200
    assert upload(people.reviewer, referral, "identity_proof").status_code == 201
    assert CorrectionRequest.objects.get(referral=referral).answered
    assert notices(Notice.CORRECTION_ANSWERED) == []  # the reviewer did it: nobody to tell
    assert act(people.reviewer, referral.pk, "close", {"note": "同意办结"}).status_code == 200


def test_one_request_at_a_time_and_a_new_one_once_answered(people, story):
    referral = story.succeeded()
    assert ask(people, referral, ["identity_proof"]).status_code == 200
    second = ask(people, referral, ["evidence"])
    assert second.status_code == 409
    assert "尚未补齐" in second.json()["detail"]
    assert CorrectionRequest.objects.count() == 1
    add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload())
    assert ask(people, referral, ["evidence"]).status_code == 200
    assert CorrectionRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("items", "message"),
    [([], "请选择需要补正的卷宗材料"), (["back_cover"], "不是合法选项"), (["nonsense"], "不是合法选项")],
    ids=["none", "made-by-the-system", "unknown"],
)
def test_a_request_without_a_valid_paper_is_refused_and_writes_nothing(people, story, items, message):
    referral = story.succeeded()
    events = TimelineEvent.objects.filter(referral=referral).count()
    response = ask(people, referral, items)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [k.split(".")[0] for k in errors] == ["items"]
    assert message in str(errors)
    assert not CorrectionRequest.objects.exists()
    assert TimelineEvent.objects.filter(referral=referral).count() == events
    assert notices(Notice.CORRECTION_REQUESTED) == []


@pytest.mark.parametrize("state", ["mediating", "closed", "declined"])
def test_only_a_concluded_referral_can_be_sent_back_for_papers(people, story, state):
    referral = story.at(state)
    response = ask(people, referral, ["identity_proof"])
    assert response.status_code == 409
    assert response.json()["detail"] == "只能对调解已结束、等待审核办结的案件退回补正。"
    assert not CorrectionRequest.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("officer", 403), ("mediator", 403), ("supervisor", 403), ("other_mediator", 404), ("outsider", 404)],
)
def test_only_the_origin_offices_reviewer_may_send_it_back(people, story, persona, status):
    referral = story.succeeded()
    response = act(getattr(people, persona), referral.pk, "request_correction", {"items": ["identity_proof"]})
    assert response.status_code == status
    assert not CorrectionRequest.objects.exists()


def test_the_workflow_refuses_the_same_way_without_the_api(people, story):
    referral = story.succeeded()
    with pytest.raises(Forbidden):
        request_correction(referral, by=people.officer, items=["identity_proof"])
    with pytest.raises(NotAvailable):
        request_correction(story.mediating(), by=people.reviewer, items=["identity_proof"])
    assert not CorrectionRequest.objects.exists()


# --- Through the pages --------------------------------------------------------------------------------


def test_the_reviewer_sends_it_back_from_the_page_and_the_committee_answers_from_its_task(people, story):
    referral = story.succeeded(form="written")
    reviewer, mediator = login(people.reviewer), login(people.mediator)
    card = actions_card(reviewer, referral)
    form = card[card.index('data-action="request_correction"') :]
    # The missing must-items are ticked already.
    ticked = re.findall(r'<input type="checkbox" name="items" value="([a-z_]+)"[^>]*checked', form)
    assert ticked == ["identity_proof", "agreement"]
    response = reviewer.post(
        f"/referrals/{referral.pk}/actions/request_correction/",
        {"items": ["identity_proof", "agreement"], "note": "请补充签字盖章的协议书。"},
    )
    assert response.status_code == 302
    task = actions_card(mediator, referral)
    assert "退回补正" in task and "请补充签字盖章的协议书。" in task
    assert correction_due(timezone.localdate()).date.isoformat() in task
    for kind in ("identity_proof", "agreement"):
        response = mediator.post(
            f"/referrals/{referral.pk}/actions/add_attachment/", {"kind": kind, "file": pdf_upload()}
        )
        assert response.status_code == 302
    assert "卷宗待补充" not in actions_card(mediator, referral)
    dossier = section(reviewer.get(f"/referrals/{referral.pk}/").content.decode(), 'id="dossier"')
    assert "已全部补正" in dossier
    response = reviewer.post(f"/referrals/{referral.pk}/actions/close/", {"note": "卷宗齐全，同意办结。"})
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).state == State.CLOSED


def test_a_request_from_the_page_without_papers_comes_back_with_the_error(people, story):
    referral = story.succeeded()
    response = login(people.reviewer).post(f"/referrals/{referral.pk}/actions/request_correction/", {"note": "x"})
    assert response.status_code == 400
    assert "请选择需要补正的卷宗材料。" in response.content.decode()
    assert not CorrectionRequest.objects.exists()


def test_the_mediators_home_page_lists_the_dossiers_to_complete_with_their_upload(people, story):
    referral = story.succeeded(form="written")
    request_correction(referral, by=people.reviewer, items=["identity_proof"])
    done = story.closable()
    html = login(people.mediator).get("/").content.decode()
    tasks = section(html, "data-dossier-tasks")
    assert referral.number in tasks and done.number not in tasks
    item = tasks[tasks.index(f'data-referral="{referral.pk}"') :]
    assert "当事人身份证明、调解协议书" in item
    assert "退回补正，期限" in item
    assert f'action="/referrals/{referral.pk}/actions/add_attachment/"' in item
    # Nothing of the kind for the petition office.
    assert "data-dossier-tasks" not in login(people.officer).get("/").content.decode()


def test_the_home_page_costs_the_same_for_one_dossier_to_complete_or_several(people, story):
    story.succeeded()

    def cost() -> int:
        client = login(people.mediator)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    one = cost()
    for _ in range(3):
        request_correction(story.succeeded(form="written"), by=people.reviewer, items=["identity_proof"])
    assert cost() == one


def test_the_referral_page_costs_the_same_with_one_request_or_several(people, story):
    referral = story.succeeded()
    client = login(people.mediator)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/referrals/{referral.pk}/").status_code == 200
        return len(queries)

    request_correction(referral, by=people.reviewer, items=["identity_proof"])
    one = cost()
    add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload())
    request_correction(referral, by=people.reviewer, items=["evidence", "performance_proof"])
    assert cost() == one


def test_a_reopened_referral_does_not_carry_the_old_request(people, story):
    referral = story.succeeded()
    request_correction(referral, by=people.reviewer, items=["evidence"])
    workflow.reopen_referral(referral, by=people.reviewer, reason="回访不满意")
    referral = Referral.objects.get(pk=referral.pk)
    assert api(people.reviewer).get(f"/api/referrals/{referral.pk}/").json()["correction"] is None
    add_attachment(referral, by=people.mediator, kind="evidence", upload=pdf_upload())
    assert CorrectionRequest.objects.get().received == []


# --- Its clock ------------------------------------------------------------------------------------------


def test_an_overdue_request_is_announced_once_to_the_committee_and_the_reviewer(people, story):
    referral = story.succeeded(form="written")
    request = request_correction(referral, by=people.reviewer, items=["identity_proof", "agreement"])
    add_attachment(referral, by=people.mediator, kind="agreement", upload=pdf_upload())
    day_after = datetime.datetime.combine(request.due_on + datetime.timedelta(days=1), datetime.time(9))
    with time_machine.travel(timezone.make_aware(day_after), tick=False):
        assert run_sweeps()["correction_overdue"] == 1
        assert run_sweeps()["correction_overdue"] == 0
    sent = notices(Notice.CORRECTION_OVERDUE)
    assert sorted(u for u, _t in sent) == ["mediator", "reviewer"]
    body = Notification.objects.filter(kind=Notice.CORRECTION_OVERDUE).first().body
    assert "当事人身份证明" in body and "调解协议书" not in body
    request.refresh_from_db()
    assert request.reminded_at is not None


def test_nothing_is_announced_before_the_deadline_or_for_an_answered_request(people, story):
    referral = story.succeeded()
    request = request_correction(referral, by=people.reviewer, items=["identity_proof"])
    on_the_day = datetime.datetime.combine(request.due_on, datetime.time(18))
    with time_machine.travel(timezone.make_aware(on_the_day), tick=False):
        assert run_sweeps()["correction_overdue"] == 0
    add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload())
    later = datetime.datetime.combine(request.due_on + datetime.timedelta(days=3), datetime.time(9))
    with time_machine.travel(timezone.make_aware(later), tick=False):
        assert run_sweeps()["correction_overdue"] == 0
    assert notices(Notice.CORRECTION_OVERDUE) == []


def test_the_request_clock_is_its_own_setting_in_working_days(people, story, settings):
    settings.FANGDIAO = {**settings.FANGDIAO, "CORRECTION_WORKING_DAYS": 5}
    referral = story.succeeded()
    review_due = Referral.objects.get(pk=referral.pk).due_on
    request = request_correction(referral, by=people.reviewer, items=["identity_proof"])
    assert request.due_on == add_working_days(timezone.localdate(), 5).date
    # The review clock keeps running as it was.
    assert Referral.objects.get(pk=referral.pk).due_on == review_due
