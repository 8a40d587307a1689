"""Printable documents (A4, Chinese) generated from the case data, so that nobody retypes them."""

import datetime

import pytest

from core.models import AccessLog
from referrals.models import Party
from tests.conftest import login
from tests.factories import today
from tests.mediation.conftest import act, on

pytestmark = pytest.mark.django_db


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
    assert "<p>王大明、李小红：</p>" in html
    assert "人民调解不收取任何费用" in html


def test_the_agreement_carries_its_terms_performance_and_signatures(people, story):
    referral = story.with_session()
    signed = today()
    due = signed + datetime.timedelta(days=10)
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
                "performance_due": due.isoformat(),
                "signed_on": signed.isoformat(),
            }
        },
    )
    html = printed(people.officer, referral, "agreement")
    for text in (
        "人民调解协议书",
        f"环调〔{signed.year}〕1号",
        "李小红于十日内疏通排水沟。",
        "人民币壹仟贰佰元整（¥1,200.00）",
        "银行转账一次性支付",
        "环市街道调解室",
        f"{due.year}年{due.month}月{due.day}日前履行完毕",
        "三十日内共同向人民法院申请司法确认",
        # The parties with sex and birth date read from their ID numbers (民族 is not recorded).
        "申请人(信访人)：王大明，男，1980年5月17日出生",
        "被申请人：李小红，女，1980年5月17日出生",
        # A row of blanks to sign and press a fingerprint for every party and every mediator.
        "<td>申请人(信访人)</td><td>王大明</td>",
        "<td>被申请人</td><td>李小红</td>",
        "<td>人民调解员</td><td>黄丽华</td>",
        "<td>人民调解员</td><td>梁明</td>",
        "按指印",
        "环市街道人民调解委员会（盖章）",
        full_id(referral),
    ):
        assert text in html, text
    # The closing paragraphs, signatures, seal and date are one block kept on one page.
    block = html[html.index('<div class="keep signing">') : html.index("</article>")]
    for text in ("本协议一式三份", "<td>王大明</td>", "（盖章）", f"{signed.year}年{signed.month}月{signed.day}日"):
        assert text in block, text


def test_the_termination_notice_explains_the_reason_and_the_routes_that_remain(people, story):
    referral = story.with_session(category="contract")  # litigation and arbitration remain open
    act(
        people.mediator,
        referral.pk,
        "fail",
        {"reason": "views_too_far_apart", "routes_explained": ["litigation", "arbitration"]},
    )
    html = printed(people.officer, referral, "termination")
    for text in (
        "终止人民调解告知书",
        "经环市街道人民调解委员会依法调解，因双方分歧较大，难以达成协议，依照",
        "<li>向人民法院提起诉讼</li>",
        "<li>申请仲裁</li>",
        "环市街道人民调解委员会（盖章）",
    ):
        assert text in html, text
    assert "申请行政复议" not in html and "信访渠道" not in html  # only the routes actually explained
    # Issue 16 §4: said once — not "难以达成协议，未能达成调解协议".
    assert html.count("达成") == 1


def test_a_termination_for_another_reason_says_that_reason_once_in_the_sentence(people, story):
    referral = story.with_session()
    note = "申请人已向法院起诉，本纠纷进入诉讼程序"
    act(people.mediator, referral.pk, "fail", {"reason": "other", "note": note, "routes_explained": ["litigation"]})
    html = printed(people.officer, referral, "termination")
    assert f"因{note}，依照" in html
    assert html.count(note) == 1 and "须说明" not in html


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
    assert "<td>王大明</td>" not in html  # the parties do not sign an oral agreement
    assert "<td>记录人（人民调解员）</td><td>黄丽华</td>" in html
    assert "<td>记录人（人民调解员）</td><td>梁明</td>" in html
    assert "调〔" not in html  # an oral agreement is recorded, not issued with a document number


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


# --- The rest of the volume (卷宗) ---------------------------------------------------------------


def test_the_register_form_prints_the_parties_with_sex_and_birth_date_unless_masked(people, story):
    referral = story.mediating()
    html = printed(people.mediator, referral, "register")
    for text in (
        "人民调解受理登记表",
        "蓬江区信访局移交（访调对接）",
        "王大明；性别：男；出生日期：1980年5月17日",
        "李小红；性别：女；出生日期：1980年5月17日",
        full_id(referral),
        "黄丽华（主调解员）、梁明",
        "登记人（签名）",
        "环市街道人民调解委员会（盖章）",
    ):
        assert text in html, text
    masked = printed(people.supervisor, referral, "register")
    assert full_id(referral) not in masked
    assert "出生日期" not in masked and "性别" not in masked  # both read from the hidden digits


def test_the_session_record_is_signed_by_the_parties_the_mediators_and_the_clerk(people, story):
    referral = story.with_session()
    html = printed(people.mediator, referral, "record")
    for text in (
        "人民调解笔录",
        "村委会调解室",
        "听取双方陈述。",
        "以上笔录已经当事人阅看",
        "<td>申请人(信访人)</td><td>王大明</td>",
        "<td>被申请人</td><td>李小红</td>",
        "<td>记录人</td><td></td>",
    ):
        assert text in html, text


def test_the_proof_of_service_has_a_row_for_each_document_and_party(people, story):
    referral = story.succeeded(form="written")
    html = printed(people.mediator, referral, "service")
    number = referral.agreements.get().number
    assert html.count("<td>人民调解受理通知书</td><td>王大明</td>") == 1
    assert f"<td>人民调解协议书（{number}）</td><td>李小红</td>" in html
    assert "受送达人签名或盖章" in html


def test_the_supervision_notice_names_the_bureau_that_issued_it(people, story):
    from mediation.workflow import issue_supervision

    referral = story.mediating()
    assert login(people.mediator).get(f"/referrals/{referral.pk}/print/supervision/").status_code == 404
    issue_supervision(referral, by=people.supervisor, note="请报告调解进展。", respond_by=today())
    html = printed(people.mediator, referral, "supervision")
    for text in ("督办通知书", "环市街道人民调解委员会：", "请报告调解进展。", "书面督办", "蓬江区司法局（盖章）"):
        assert text in html, text


def test_the_follow_up_record_is_blank_to_fill_in_until_a_visit_is_recorded(people, story):
    referral = story.mediating()
    assert login(people.mediator).get(f"/referrals/{referral.pk}/print/followup/").status_code == 404
    referral = story.succeeded()
    html = printed(people.mediator, referral, "followup")
    assert "□满意　□基本满意　□不满意" in html
    from mediation.workflow import add_followup

    add_followup(
        referral,
        by=people.officer,
        visited_on=today(),
        method="phone",
        satisfaction="satisfied",
        note="当事人表示满意。",
    )
    html = printed(people.mediator, referral, "followup")
    assert "第1次回访" in html and "当事人表示满意。" in html and "电话回访" in html and "蓬江区信访局" in html
    assert "□满意" not in html


def test_the_volume_pages_carry_every_document_and_number_their_contents_in_the_browser(people, story):
    referral = story.succeeded(form="written")
    html = printed(people.reviewer, referral, "volume")
    order = ["cover", "contents", "transfer", "register", "acceptance", "record", "agreement", "service"]
    order += ["followup", "back_cover"]
    positions = [html.index(f'data-doc="{slug}"') for slug in order]
    assert positions == sorted(positions)
    assert 'data-doc="termination"' not in html and 'data-doc="supervision"' not in html
    assert "print_pagination" in html and "offstage" not in html
    for slug in ("transfer", "register", "acceptance", "record", "agreement", "service", "followup"):
        assert f'data-pages-of="{slug}"' in html
    # The contents alone lays the other documents out off-page, so that their pages can be counted.
    contents = printed(people.reviewer, referral, "contents")
    assert contents.count('class="doc doc-') == 10 and contents.count(" offstage") == 9
    assert 'class="doc doc-contents"' in contents
    # A single document has no such script.
    assert "print_pagination" not in printed(people.reviewer, referral, "agreement")


def test_the_volume_lists_uploaded_papers_after_the_printed_documents(people, story):
    from mediation.workflow import add_attachment
    from tests.files import pdf_upload

    referral = story.succeeded(form="written")
    add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload())
    add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload("b.pdf"))
    add_attachment(referral, by=people.mediator, kind="agreement", upload=pdf_upload("signed.pdf"))
    html = printed(people.mediator, referral, "contents")
    contents = html[html.index('data-doc="contents"') :]
    contents = contents[: contents.index("</article>")]
    row = contents[contents.index("<td>当事人身份证明</td>") :]
    assert "上传2份，装订后填写页号" in row[: row.index("</tr>")]
    assert contents.index("<td>当事人身份证明</td>") > contents.index('data-pages-of="followup"')
    # The signed agreement's scan is the printed agreement, not another paper.
    assert contents.count("<td>人民调解协议书</td>") == 1
    assert "<td>调解协议书</td>" not in contents


@pytest.mark.parametrize("document", ["cover", "contents", "back_cover", "volume", "register", "service"])
def test_a_volume_page_is_not_found_before_the_committee_accepts(people, story, document):
    referral = story.submitted()
    assert login(people.officer).get(f"/referrals/{referral.pk}/print/{document}/").status_code == 404


def test_printing_the_volume_in_full_is_entered_in_the_read_audit(people, story):
    referral = story.succeeded()
    printed(people.supervisor, referral, "volume")  # masked
    assert not AccessLog.objects.exists()
    printed(people.mediator, referral, "cover")  # the volume's documents are laid out with it
    assert AccessLog.objects.get().detail == {"document": "cover"}


def test_the_pages_fit_a_phone_and_print_a4(people, story):
    html = printed(people.mediator, story.mediating(), "acceptance")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'class="print-button" data-print' in html
    assert '@page { @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页"; } }' in html


def test_the_dossier_panel_links_the_volume_and_its_documents(people, story):
    referral = story.succeeded()
    page = login(people.mediator).get(f"/referrals/{referral.pk}/").content.decode()
    for document in ("register", "record", "service", "followup", "volume", "cover", "contents", "back_cover"):
        assert f"/referrals/{referral.pk}/print/{document}/" in page, document
    assert f"/referrals/{referral.pk}/print/supervision/" not in page
