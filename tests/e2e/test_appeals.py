"""复查复核 on a phone, over the demo data: 蓬江区信访局's reviewer records the written reply's delivery on a
closed referral; 江门市信访局's officer, who cannot see it yet, registers the petitioner's 复查 by the
number on the reply (a wrong number is said at the field, focused, nothing written), lands on the
referral, answers it from the action bar, and the 复查复核 page's figures move."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE


def open_menu(page) -> None:
    toggle = page.locator("[data-menu-toggle]")
    if toggle.is_visible():
        toggle.click()


def figure(page, kind: str, key: str) -> int:
    cell = page.locator(f"[data-appeal-table] tr[data-appeal-row={kind}] [data-figure={key}]")
    return int(cell.inner_text())


def test_the_office_above_registers_and_answers_a_review_from_a_phone(open_session):
    reviewer = open_session("reviewer", viewport=PHONE)
    page = reviewer.page
    # A closed referral nobody has contested yet: its page offers 登记答复意见送达 and shows no request.
    reviewer.go("/referrals/?state=closed")
    links = page.locator("tr[data-referral-id] a.number")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 12))]
    number = ""
    for href in hrefs:
        reviewer.go(href)
        if page.locator("#action-record_reply").count() and not page.locator("[data-appeal]").count():
            number = page.locator("h1").inner_text()
            break
    assert number, "a closed demo referral without a 复查"
    number = re.search(r"JM-\d{4}-\d{6}", number).group(0)
    page.locator("[data-action-bar]").get_by_role("link", name="登记答复意见送达").click()
    form = page.locator("details#action-record_reply")
    expect(form).to_have_attribute("open", "")
    form.locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_contain_text("已登记答复意见送达日期")

    city = open_session("cityoffice", viewport=PHONE)
    page = city.page
    open_menu(page)
    page.locator("[data-nav=appeals]").click()
    expect(page.locator("h1")).to_contain_text("复查复核")
    requested, upheld = figure(page, "review", "requested"), figure(page, "review", "upheld")
    register = page.locator("[data-record=register_appeal_by_number]")
    register.locator("summary").click()
    register.locator("input[name=number]").fill("JM-2099-000001")
    register.locator("textarea[name=grounds]").fill("认为答复意见未回应其诉求。")
    register.locator("button[type=submit]").click()
    register = page.locator("[data-record=register_appeal_by_number]")
    expect(register).to_have_attribute("open", "")
    expect(register.locator(".error-summary")).to_contain_text("未找到可登记复查复核的案件")
    expect(register.locator("input[name=number]")).to_be_focused()

    register.locator("input[name=number]").fill(number.lower())
    register.locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_contain_text(number)
    expect(page.locator("h1")).to_contain_text(number)
    panel = page.locator("#appeals")
    expect(panel.locator("[data-appeal=review]")).to_contain_text("办理中")

    page.locator("[data-action-bar]").get_by_role("link", name="登记复查复核意见").click()
    form = page.locator("details#action-answer_appeal")
    expect(form).to_have_attribute("open", "")
    form.locator("select[name=outcome]").select_option("upheld")
    form.locator("textarea[name=opinion]").fill("原答复意见认定事实清楚，处理恰当，予以维持。")
    form.locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_contain_text("已登记复查复核意见")
    expect(page.locator("#appeals [data-appeal=review]")).to_contain_text("维持")
    city.shot("cityoffice-appeal-phone")

    city.go("/referrals/appeals/")
    expect(page.locator("[data-appeal-table] tr[data-appeal-row=review] [data-figure=requested]")).to_have_text(
        str(requested + 1)
    )
    assert figure(page, "review", "upheld") == upheld + 1
