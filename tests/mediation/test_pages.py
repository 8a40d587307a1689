"""The mediation records through the referral page, as the mediator and the petition office use them."""

import re

import pytest

from mediation.models import Agreement, Attachment, FollowUp, MediationSession, SupervisionOrder
from referrals.models import Referral, State
from tests.conftest import login
from tests.factories import day
from tests.files import exe_upload, pdf_upload

pytestmark = pytest.mark.django_db


def section(html: str, marker: str) -> str:
    """The part of the page from ``marker`` to the end of its card."""
    start = html.index(marker)
    return html[start : html.index("</section>", start)]


def session() -> dict:
    return {
        "held_on": day(),
        "location": "环市街道综治中心调解室",
        "participants": "王大明、李小红",
        "record": "双方陈述各自意见，同意由被申请人疏通排水沟。",
    }


def test_a_mediator_records_a_session_from_the_referral_page(people, story):
    referral = story.mediating()
    client = login(people.mediator)
    response = client.post(
        f"/referrals/{referral.pk}/actions/record_session/", {**session(), "mediators": [people.lead.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/referrals/{referral.pk}/"
    page = client.get(response["Location"]).content.decode()
    sessions = section(page, 'id="sessions"')
    assert "环市街道综治中心调解室" in sessions and "同意由被申请人疏通排水沟" in sessions
    assert "已保存调解记录。" in page


def test_a_session_form_with_errors_comes_back_with_each_error_next_to_its_field(people, story):
    referral = story.mediating()
    body = {**session(), "location": "", "held_on": day(2)}
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/record_session/", body)
    assert response.status_code == 400
    form = section(response.content.decode(), 'id="sessions"')
    assert 'data-record="session"' in form and "open" in form[form.index("<details") : form.index("<summary")]
    location = form[form.index('for="id_record_session_location"') :]
    assert 'id="id_record_session_location_error"' in location[: location.index("</div>")]
    held_on = form[form.index('for="id_record_session_held_on"') :]
    assert "日期不能晚于今天。" in held_on[: held_on.index("</div>")]
    assert "双方陈述各自意见" in form  # what was typed is kept
    assert not MediationSession.objects.exists()


def test_a_mediator_concludes_with_an_agreement_through_the_form(people, story):
    referral = story.with_session()
    client = login(people.mediator)
    response = client.post(
        f"/referrals/{referral.pk}/actions/succeed/",
        {
            "form": "written",
            "terms": "李小红于十日内疏通排水沟，并赔偿王大明500元。",
            "amount": "500",
            "performance_method": "现金一次性支付",
            "performance_due": day(10),
            "signed_on": day(),
        },
    )
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).state == State.SUCCEEDED
    outcome = section(login(people.officer).get(f"/referrals/{referral.pk}/").content.decode(), 'id="outcome"')
    assert "达成调解协议" in outcome and "并赔偿王大明500元" in outcome and "书面协议" in outcome


def test_the_succeed_form_names_every_missing_element(people, story):
    referral = story.mediating()
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/succeed/", {"form": "written"})
    assert response.status_code == 400
    html = response.content.decode()
    errors = html[html.index('data-action="succeed"') :]
    errors = errors[errors.index('class="error-summary"') : errors.index("</form>")]
    for message in ("至少一份调解记录", "协议内容", "履行方式", "履行期限", "书面协议的签订日期"):
        assert message in errors, message
    assert not Agreement.objects.exists()


def test_the_fail_form_names_every_missing_element(people, story):
    referral = story.mediating()
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/fail/", {"note": "双方不同意"})
    assert response.status_code == 400
    html = response.content.decode()
    errors = html[html.index('data-action="fail"') :]
    errors = errors[errors.index('class="error-summary"') : errors.index("</form>")]
    for message in ("终止调解的原因", "已告知当事人", "未开展调解的原因"):
        assert message in errors, message


def test_an_upload_from_the_page_appears_in_the_dossier(people, story):
    referral = story.succeeded()
    client = login(people.mediator)
    response = client.post(
        f"/referrals/{referral.pk}/actions/add_attachment/",
        {"kind": "identity_proof", "file": pdf_upload("身份证.pdf")},
    )
    assert response.status_code == 302
    dossier = section(client.get(f"/referrals/{referral.pk}/").content.decode(), 'id="dossier"')
    assert "身份证.pdf" in dossier
    item = dossier[dossier.index('data-item="identity_proof"') :]
    assert "已上传1份" in item[: item.index("</li>")]


def test_a_refused_upload_shows_the_reason_next_to_the_file_field(people, story, settings):
    referral = story.mediating()
    response = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/add_attachment/", {"kind": "agreement", "file": exe_upload()}
    )
    assert response.status_code == 400
    form = section(response.content.decode(), 'id="dossier"')
    field = form[form.index('for="id_add_attachment_file"') :]
    assert "不支持的文件类型" in field[: field.index("</div>")]
    assert not Attachment.objects.exists()


def test_a_followup_from_the_page_is_shown_to_the_petition_office(people, story):
    referral = story.closed()
    response = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/add_followup/",
        {"visited_on": day(), "method": "visit", "satisfaction": "basically_satisfied", "note": "已付款"},
    )
    assert response.status_code == 302
    followups = section(login(people.officer).get(f"/referrals/{referral.pk}/").content.decode(), 'id="followups"')
    assert "上门回访" in followups and "基本满意" in followups and "已付款" in followups
    assert FollowUp.objects.get().organisation == people.huanshi


def test_a_followup_without_satisfaction_comes_back_with_the_error(people, story):
    referral = story.closed()
    response = login(people.officer).post(
        f"/referrals/{referral.pk}/actions/add_followup/", {"visited_on": day(), "method": "phone"}
    )
    assert response.status_code == 400
    form = section(response.content.decode(), 'id="followups"')
    assert 'id="id_add_followup_satisfaction_error"' in form


def test_a_supervisor_orders_from_the_page_and_the_committee_answers_there(people, story):
    referral = story.mediating()
    supervisor = login(people.supervisor)
    response = supervisor.post(
        f"/referrals/{referral.pk}/actions/issue_supervision/",
        {"kind": "written_notice", "note": "请报告调解进展。", "respond_by": day()},
    )
    assert response.status_code == 302
    order = SupervisionOrder.objects.get()
    mediator = login(people.mediator)
    panel = section(mediator.get(f"/referrals/{referral.pk}/").content.decode(), 'id="supervision"')
    assert "请报告调解进展。" in panel and f"/referrals/{referral.pk}/supervisions/{order.pk}/respond/" in panel
    empty = mediator.post(f"/referrals/{referral.pk}/supervisions/{order.pk}/respond/", {"response": ""})
    assert empty.status_code == 400
    answered = mediator.post(f"/referrals/{referral.pk}/supervisions/{order.pk}/respond/", {"response": "已约谈双方"})
    assert answered.status_code == 302
    panel = section(supervisor.get(f"/referrals/{referral.pk}/").content.decode(), 'id="supervision"')
    assert "已回复" in panel and "已约谈双方" in panel


def test_the_petition_office_sees_the_agreement_the_dossier_and_the_followup(people, story):
    referral = story.closed()
    login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/add_followup/",
        {"visited_on": day(), "method": "phone", "satisfaction": "satisfied", "performance": "performed"},
    )
    page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    assert "被申请人赔偿500元。" in section(page, 'id="outcome"')
    assert "已履行" in section(page, 'id="outcome"')
    dossier = section(page, 'id="dossier"')
    assert 'data-item="identity_proof"' in dossier and "<strong>缺</strong>" not in dossier
    assert "满意" in section(page, 'id="followups"')


def test_record_forms_answer_only_posts(people, story):
    referral = story.mediating()
    assert login(people.mediator).get(f"/referrals/{referral.pk}/actions/record_session/").status_code == 405


def test_an_unknown_record_is_not_found(people, story):
    referral = story.mediating()
    assert login(people.mediator).post(f"/referrals/{referral.pk}/actions/payment/", {}).status_code == 404


@pytest.mark.parametrize("state", ["with_session", "closed"])
def test_each_field_of_the_mediation_forms_has_an_id_of_its_own_on_the_page(people, story, state):
    # Several forms share field names (note, reason): a label must not point into another form.
    referral = story.at(state)
    html = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    ids = re.findall(r'\sid="(id_[^"]+)"', html)
    forms = ("succeed", "fail", "record_session", "record_agreement_progress", "add_followup", "add_attachment")
    ours = [i for i in ids if i.startswith(tuple(f"id_{f}_" for f in forms))]
    assert len(ours) > 10
    assert [i for i in ours if ids.count(i) > 1] == []
    for label in re.findall(rf'<label for="(id_(?:{"|".join(forms)})_[^"]+)"', html):
        assert label in ids or any(i.startswith(label + "_") for i in ids), label
