"""Printable documents (A4, Chinese) generated from the case data, so that nobody retypes them."""

import datetime

import pytest

from core.models import AccessLog
from referrals.models import Party
from tests.conftest import login
from tests.mediation.conftest import act, on

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


def printed(user, referral, document: str):
    response = login(user).get(f"/referrals/{referral.pk}/print/{document}/")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def full_id(referral) -> str:
    return Party.objects.filter(referral=referral).order_by("position").first().id_number


def test_the_transfer_letter_carries_the_case_as_registered(people, story):
    referral = story.submitted()
    html = printed(people.officer, referral, "transfer")
    for text in (
        "访调对接移交单",
        referral.number,
        "环市街道人民调解委员会：",
        "蓬江区信访局",
        "王大明",
        "李小红",
        "邻里之间因排水沟堵塞引发纠纷",
        "请求对方疏通排水沟并赔偿损失500元。",
        "公民之间涉及人身、财产权益和其他权益的纠纷",
        "书面同意",
        full_id(referral),
    ):
        assert text in html, text


def test_the_acceptance_notice_names_the_mediators_and_the_rights_of_the_parties(people, story):
    referral = story.mediating()
    html = printed(people.mediator, referral, "acceptance")
    assert "人民调解受理通知书" in html
    assert "黄丽华（主调解员）、梁明" in html
    assert "王大明：" in html and "李小红：" in html
    assert "人民调解不收取任何费用" in html


def test_the_agreement_carries_its_terms_performance_and_signatures(people, story):
    referral = story.with_session()
    act(
        people.mediator,
        referral.pk,
        "succeed",
        {
            "agreement": {
                "form": "written",
                "terms": "李小红于十日内疏通排水沟。",
                "amount": "1200.00",
                "performance_method": "银行转账一次性支付",
                "performance_place": "环市街道调解室",
                "performance_due": (TODAY + datetime.timedelta(days=10)).strftime("%Y-%m-%d"),
                "signed_on": TODAY.isoformat(),
            }
        },
    )
    html = printed(people.officer, referral, "agreement")
    due = TODAY + datetime.timedelta(days=10)
    for text in (
        "人民调解协议书",
        "李小红于十日内疏通排水沟。",
        "1200.00",
        "银行转账一次性支付",
        "环市街道调解室",
        f"{due.year}年{due.month}月{due.day}日前履行完毕",
        "三十日内共同向人民法院申请司法确认",
        "申请人(信访人)：王大明（签名）",
        "黄丽华、梁明（签名）",
        full_id(referral),
    ):
        assert text in html, text


def test_the_termination_notice_explains_the_reason_and_the_routes_that_remain(people, story):
    referral = story.with_session()
    act(
        people.mediator,
        referral.pk,
        "fail",
        {"reason": "views_too_far_apart", "routes_explained": ["litigation", "arbitration", "petition"]},
    )
    html = printed(people.officer, referral, "termination")
    for text in (
        "终止人民调解告知书",
        "因双方分歧较大，难以达成协议，未能达成调解协议",
        "<li>向人民法院提起诉讼</li>",
        "<li>申请仲裁</li>",
        "<li>通过信访渠道反映</li>",
        "环市街道人民调解委员会（盖章）",
    ):
        assert text in html, text
    assert "申请行政复议" not in html  # only the routes actually explained


def test_the_dossier_index_lists_each_item_and_what_is_missing(people, story):
    referral = story.succeeded(form="written")
    html = printed(people.reviewer, referral, "dossier")
    assert "人民调解卷宗目录" in html
    row = html[html.index("当事人身份证明") :]
    assert "<strong>缺</strong>" in row[: row.index("</tr>")]
    assert "调解笔录" in html and "本轮1份" in html


@pytest.mark.parametrize("document", ["transfer", "agreement"])
def test_a_supervisor_prints_the_parties_with_their_personal_data_masked(people, story, document):
    referral = story.succeeded()
    id_number = full_id(referral)
    phone = Party.objects.filter(referral=referral).order_by("position").first().phone
    html = printed(people.supervisor, referral, document)
    assert id_number not in html and phone not in html
    assert f"{id_number[:6]}********{id_number[-4:]}" in html
    assert f"{phone[:3]}****{phone[-4:]}" in html
    assert "王大明" in html


@pytest.mark.parametrize(
    ("state", "document"),
    [("draft", "transfer"), ("submitted", "acceptance"), ("mediating", "agreement"), ("succeeded", "termination")],
)
def test_a_document_the_case_has_not_reached_is_not_found(people, story, state, document):
    referral = story.at(state)
    assert login(people.officer).get(f"/referrals/{referral.pk}/print/{document}/").status_code == 404


def test_an_unknown_document_is_not_found(people, story):
    referral = story.succeeded()
    assert login(people.officer).get(f"/referrals/{referral.pk}/print/invoice/").status_code == 404


def test_the_agreement_of_a_reopened_round_is_no_longer_printed_as_the_agreement(people, story):
    referral = story.closed()
    act(people.reviewer, referral.pk, "reopen", {"reason": "回访不满意"})
    assert login(people.officer).get(f"/referrals/{referral.pk}/print/agreement/").status_code == 404


def test_the_dossier_panel_links_the_documents_the_case_has_reached(people, story):
    referral = story.succeeded()
    page = login(people.officer).get(f"/referrals/{referral.pk}/").content.decode()
    for document in ("transfer", "acceptance", "agreement", "dossier"):
        assert f"/referrals/{referral.pk}/print/{document}/" in page
    assert f"/referrals/{referral.pk}/print/termination/" not in page


def test_an_oral_agreement_is_printed_as_recorded_by_the_mediator_not_as_signed(people, story):
    referral = story.succeeded(form="oral")
    html = printed(people.mediator, referral, "agreement")
    assert "口头调解协议记录" in html
    assert "自各方当事人达成协议之日" in html and "第三十条" in html
    assert "签名或盖章" not in html
    assert "王大明（签名）" not in html  # the parties do not sign an oral agreement
    assert "黄丽华、梁明（签名）" in html


def test_the_printed_agreement_states_the_last_day_to_apply_for_judicial_confirmation(people, story):
    with on(datetime.date(2026, 9, 1)):
        referral = story.succeeded(form="written")
        html = printed(people.mediator, referral, "agreement")
    assert "申请司法确认的期限至：2026年10月8日" in html


def test_printing_the_parties_in_full_is_entered_in_the_read_audit(people, story):
    referral = story.succeeded()
    printed(people.supervisor, referral, "transfer")  # masked: not personal data access
    printed(people.mediator, referral, "acceptance")  # names only
    assert not AccessLog.objects.exists()
    printed(people.officer, referral, "agreement")
    entry = AccessLog.objects.get()
    assert (entry.username, entry.action, entry.detail) == ("officer", "print_document", {"document": "agreement"})
