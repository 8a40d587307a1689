"""A phone-first mediator, in a real browser on a 390 × 844 phone.

The petition office refers a dispute; the township mediator opens it on a phone. The page leads with
what to do: the action bar sits at the bottom of the screen without scrolling, the facts are folded.
From the bar the mediator accepts (chosen already as lead mediator) and records a session; a 调解成功
sent without the agreement's terms comes back with the form open, its summary and the wrong field
in view, the field focused; 终止调解 asks first, and nothing happens until it is confirmed.
"""

from __future__ import annotations

import datetime

from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PASSWORD, confirm
from tests.e2e.test_journeys import register
from tests.factories import day
from townships.validators import make_id_number

PHONE_390 = {"width": 390, "height": 844}
PETITIONER_ID = make_id_number("440703", datetime.date(1975, 8, 2), 57, male=True)

IN_VIEW = """el => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""
# Above the action bar, which covers the bottom of the screen.
CLEAR_OF_BAR = """el => {
  const bar = document.querySelector('[data-action-bar]').getBoundingClientRect();
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= bar.top;
}"""


def test_a_mediator_works_a_case_on_a_phone(open_session):
    officer = open_session("officer", viewport=DESKTOP)
    url = register(officer, petitioner="冯志坚", id_number=PETITIONER_ID, tag="phone-mediator")
    officer.page.click("details[data-action=submit] button[type=submit]")
    confirm(officer.page)
    expect(officer.page.locator(".message.success")).to_contain_text("已移交")
    path = url.replace(officer.server, "")

    mediator = open_session("mediator", viewport=PHONE_390).go(path)
    page = mediator.page
    bar = page.locator("[data-action-bar]")

    # The bar is on screen at once, at its bottom edge, with the steps of the moment.
    assert page.evaluate("window.scrollY") == 0
    expect(bar).to_be_visible()
    assert bar.evaluate(IN_VIEW)
    box = bar.bounding_box()
    assert abs(box["y"] + box["height"] - PHONE_390["height"]) <= 1
    expect(bar).to_contain_text("受理")
    expect(bar).to_contain_text("退回")
    # What to do comes first; the facts are folded below, the party's number one tap from a call.
    assert page.locator("#actions").bounding_box()["y"] < page.locator("#facts").bounding_box()["y"]
    expect(page.locator("#facts details[data-fold]")).not_to_have_attribute("open", "")
    expect(page.locator("#parties a[href^='tel:']").first).to_be_attached()
    # Still there after scrolling to the end of the page.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert bar.evaluate(IN_VIEW)

    # 受理 from the bar: its form opens in view, the mediator already chosen as lead mediator.
    bar.get_by_role("link", name="受理").click()
    accept = page.locator("details[data-action=accept]")
    expect(accept).to_have_attribute("open", "")
    lead = accept.locator("select[name=lead]")
    assert lead.evaluate("s => s.selectedOptions[0].textContent").startswith("黄丽华")
    expect(accept.locator("label[for=id_accept_lead] .req")).to_have_count(1)
    accept.locator("input[name=rights_explained]").check()
    accept.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("调解中")
    expect(bar).to_contain_text("调解成功")
    expect(bar).to_contain_text("终止调解")

    # 记录调解 from the bar.
    bar.get_by_role("link", name="记录调解").click()
    session = page.locator("details[data-record=session]")
    expect(session).to_have_attribute("open", "")
    session.locator("input[name=location]").fill("环市街道调解室")
    session.locator("textarea[name=participants]").fill("双方当事人")
    session.locator("textarea[name=record]").fill("听取双方陈述，双方同意协商。")
    session.locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_contain_text("已保存调解记录")

    # 调解成功 without the agreement's terms: confirmed, refused, and brought back where it was.
    bar.get_by_role("link", name="调解成功").click()
    succeed = page.locator("details[data-action=succeed]")
    expect(succeed).to_have_attribute("open", "")
    succeed.locator("input[name=form][value=written]").check()
    succeed.locator("input[name=performance_method]").fill("现金支付")
    succeed.locator("input[name=performance_due]").fill(day())
    succeed.locator("input[name=signed_on]").fill(day())
    succeed.locator("button[type=submit]").click()
    confirm(page)
    page.wait_for_load_state()
    succeed = page.locator("details[data-action=succeed]")
    expect(succeed).to_have_attribute("open", "")
    summary = succeed.locator("[data-error-summary]")
    expect(summary).to_contain_text("请填写以下内容")
    expect(summary).to_contain_text("协议内容")
    assert summary.evaluate(IN_VIEW)
    terms = succeed.locator("textarea[name=terms]")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "id_succeed_terms"
    assert terms.evaluate(CLEAR_OF_BAR)
    assert terms.evaluate("el => getComputedStyle(el).borderTopColor") != "rgb(138, 150, 163)"  # outlined
    expect(page.locator("h1")).to_contain_text("调解中")
    mediator.shot("mediator-refused-succeed-phone")

    # 终止调解 asks first, saying what will happen and with what; 返回修改 leaves everything as it was.
    bar.get_by_role("link", name="终止调解").click()
    fail = page.locator("details[data-action=fail]")
    expect(fail).to_have_attribute("open", "")
    fail.locator("select[name=reason]").select_option("views_too_far_apart")
    fail.locator("input[name=routes_explained][value=litigation]").check()
    fail.locator("button[type=submit]").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("终止调解")
    expect(dialog).to_contain_text("终止后本轮调解结束")
    expect(dialog).to_contain_text("双方分歧较大，难以达成协议")
    expect(dialog).to_contain_text("向人民法院提起诉讼")
    mediator.shot("mediator-confirm-fail-phone")
    dialog.locator("[data-confirm-cancel]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("h1")).to_contain_text("调解中")
    fail.locator("button[type=submit]").click()
    confirm(page)
    expect(page.locator("h1")).to_contain_text("调解终止")


def test_the_app_shell_is_kept_for_a_phone_without_network(browser, server):
    """The service worker keeps the styles and scripts; a page asked for offline is a notice, and
    no page is ever stored."""
    context = browser.new_context(
        viewport=PHONE_390, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True, service_workers="allow"
    )
    try:
        page = context.new_page()
        page.goto(server + "/login/")
        page.fill("#id_username", "mediator")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        stored = page.evaluate(
            "caches.keys().then(keys => Promise.all(keys.map(k => caches.open(k).then(c => c.keys()))))"
            ".then(lists => lists.flat().map(r => new URL(r.url).pathname))"
        )
        assert any(p.startswith("/static/css/app") for p in stored), stored
        assert all(p.startswith("/static/") for p in stored), stored
        context.set_offline(True)
        page.goto(server + "/referrals/")
        expect(page.locator("[data-offline]")).to_contain_text("没有网络连接")
        # The shell's stylesheet came from the cache: the header has its colour.
        assert page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(163, 35, 31)"
        context.set_offline(False)
        page.reload()
        expect(page.locator("h1")).not_to_contain_text("没有网络连接")
    finally:
        context.close()


def test_a_bar_button_tapped_before_the_scripts_ran_still_opens_its_form(open_session):
    """The bar's buttons are links to #action-…: a tap before app.js has run (a slow phone) only
    changes the address; the form opens as soon as the script runs."""
    officer = open_session("officer", viewport=DESKTOP)
    url = register(officer, petitioner="麦志远", id_number=PETITIONER_ID, tag="early-tap")
    officer.page.click("details[data-action=submit] button[type=submit]")
    confirm(officer.page)
    expect(officer.page.locator(".message.success")).to_contain_text("已移交")
    mediator = open_session("mediator", viewport=PHONE_390).go(url.replace(officer.server, "") + "#action-accept")
    expect(mediator.page.locator("details#action-accept")).to_have_attribute("open", "")
