"""The hand-off to review (issue 16 §1), in a real browser.

A referral concluded with a written agreement and no papers: the mediator's 办理 card names what the
dossier lacks; the reviewer cannot close yet and sends it back (退回补正); the mediator uploads each
paper from the task itself; the reviewer closes. Then, on a 390 px phone, the petition officer urges
(催办) a referral overdue at its committee and takes back (撤回) one not yet accepted, which its
committee can then no longer open.
"""

from __future__ import annotations

import datetime
import re

from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, confirm, goto
from tests.e2e.test_journeys import register
from tests.factories import day
from tests.files import pdf_upload
from townships.validators import make_id_number

PHONE_390 = {"width": 390, "height": 844}
PETITIONER_ID = make_id_number("440703", datetime.date(1980, 5, 17), 11, male=True)
OTHER_ID = make_id_number("440703", datetime.date(1982, 3, 9), 38, male=False)


def submit(officer) -> None:
    officer.page.click("details[data-action=submit] button[type=submit]")
    confirm(officer.page)
    expect(officer.page.locator(".message.success")).to_contain_text("已移交")


def attach_in_task(mediator, kind: str, name: str) -> None:
    task = mediator.page.locator("#dossier-task")
    task.locator("select[name=kind]").select_option(kind)
    task.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": pdf_upload(name).read()}]
    )
    task.locator("button[type=submit]").click()
    expect(mediator.page.locator(".message.success")).to_contain_text("已上传材料")


def test_sent_back_for_papers_answered_from_the_task_then_closed(open_session):
    officer = open_session("officer", viewport=DESKTOP)
    url = register(
        officer,
        petitioner="区志强",
        id_number=PETITIONER_ID,
        tag="handoff",
    )
    submit(officer)
    path = url.replace(officer.server, "")

    # The mediator accepts, records a session and concludes with a written agreement, no scan.
    mediator = open_session("mediator", viewport=DESKTOP).go(path)
    page = mediator.page
    page.click("details[data-action=accept] summary")
    page.select_option("details[data-action=accept] select[name=lead]", label="黄丽华")
    page.check("details[data-action=accept] input[name=rights_explained]")
    page.click("details[data-action=accept] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("调解中")
    page.click("details[data-record=session] summary")
    page.fill("details[data-record=session] input[name=location]", "环市街道调解室")
    page.fill("details[data-record=session] textarea[name=participants]", "双方当事人")
    page.fill("details[data-record=session] textarea[name=record]", "双方同意协商解决。")
    page.click("details[data-record=session] button[type=submit]")
    page.click("details[data-action=succeed] summary")
    page.check("details[data-action=succeed] input[name=form][value=written]")
    page.fill("details[data-action=succeed] textarea[name=terms]", "李小红三日内疏通排水沟，赔偿500元。")
    page.fill("details[data-action=succeed] input[name=performance_method]", "现金支付")
    page.fill("details[data-action=succeed] input[name=performance_due]", day())
    page.fill("details[data-action=succeed] input[name=signed_on]", day())
    expect(page.locator("details[data-action=succeed] input[name=scan]")).to_have_count(1)  # invited
    page.click("details[data-action=succeed] button[type=submit]")
    confirm(page)
    expect(page.locator("h1")).to_contain_text("调解成功")
    # Not "nothing to do": the dossier's gaps are the committee's task.
    actions = page.locator("#actions")
    expect(actions).not_to_contain_text("当前没有需要您办理的事项")
    expect(page.locator("#dossier-task")).to_contain_text("卷宗待补充：当事人身份证明、调解协议书")

    # The reviewer cannot close yet: the form names the gaps. 退回补正, the gaps already ticked.
    reviewer = open_session("reviewer", viewport=DESKTOP).go(path)
    rpage = reviewer.page
    rpage.click("details[data-action=close] summary")
    expect(rpage.locator("details[data-action=close] [data-missing-list]")).to_contain_text("当事人身份证明")
    rpage.click("details[data-action=request_correction] summary")
    form = rpage.locator("details[data-action=request_correction]")
    expect(form.locator("input[name=items][value=identity_proof]")).to_be_checked()
    expect(form.locator("input[name=items][value=agreement]")).to_be_checked()
    form.locator("textarea[name=note]").fill("请上传双方身份证明及签字盖章的协议书。")
    form.locator("button[type=submit]").click()
    expect(rpage.locator(".message.success")).to_contain_text("退回补正")
    expect(rpage.locator("#dossier [data-corrections]")).to_contain_text("补正期限")

    # The mediator is told, and answers from the task, paper by paper.
    goto(page, url)
    expect(page.locator("#dossier-task [data-correction]")).to_contain_text("请上传双方身份证明")
    attach_in_task(mediator, "identity_proof", "身份证明.pdf")
    expect(page.locator("#dossier-task [data-task-items]")).to_have_text("调解协议书")
    attach_in_task(mediator, "agreement", "调解协议书.pdf")
    expect(page.locator("#dossier-task")).to_have_count(0)
    expect(page.locator("#actions")).to_contain_text("当前没有需要您办理的事项")

    # The reviewer hears of it and closes.
    goto(rpage, url)
    expect(rpage.locator("#dossier [data-corrections]")).to_contain_text("已全部补正")
    rpage.click("details[data-action=close] summary")
    rpage.fill("details[data-action=close] textarea[name=note]", "卷宗已补正齐全，同意办结。")
    rpage.click("details[data-action=close] button[type=submit]")
    confirm(rpage)
    expect(rpage.locator("h1")).to_contain_text("已办结")
    goto(rpage, officer.server + "/notifications/")
    expect(rpage.locator("body")).to_contain_text("已补正卷宗材料")


def test_on_a_phone_the_officer_urges_an_overdue_referral_and_withdraws_another(open_session):
    officer = open_session("officer", viewport=PHONE_390)
    page = officer.page
    # 催办, from the home page's list of referrals overdue elsewhere.
    chase = page.locator("section.listing", has_text="可催办")
    chase.locator("a.number").first.click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    before = page.locator("[data-urge-count]")
    count = int(before.inner_text()) if before.count() else 0
    page.click("details[data-action=urge] summary")
    page.fill("details[data-action=urge] textarea[name=note]", "已超期，请尽快办理并回复。")
    page.click("details[data-action=urge] button[type=submit]")
    expect(page.locator(".message.success")).to_contain_text("催办")
    expect(page.locator("[data-urge-count]")).to_have_text(str(count + 1))
    expect(page.locator("#timeline")).to_contain_text("已超期，请尽快办理并回复。")
    # Nothing on the page is wider than the phone.
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert wide == [], wide[:15]

    # 撤回: a referral just sent, before the committee accepts it.
    url = register(
        officer,
        petitioner="谭美玲",
        id_number=OTHER_ID,
        tag="withdraw",
    )
    submit(officer)
    mediator = open_session("mediator", viewport=PHONE_390)
    assert mediator.page.goto(url).status == 200
    page.click("details[data-action=withdraw] summary")
    page.fill("details[data-action=withdraw] textarea[name=reason]", "当事人信息有误，更正后重新移交。")
    page.click("details[data-action=withdraw] button[type=submit]")
    confirm(page)
    expect(page.locator("h1")).to_contain_text("草稿")
    expect(page.locator("details[data-action=submit]")).to_have_count(1)
    officer.shot("officer-referral-withdrawn-phone")
    # The committee can no longer open it.
    response = mediator.page.goto(url)
    assert response.status == 404
