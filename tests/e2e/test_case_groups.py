"""类案 on a phone, over the demo data: the petition officer finds the office's 类案 group from the menu,
is told plainly that a mistyped number is no case of theirs, puts a case in by its number; the 环市
mediator opens the group from a member's page and records one combined session on its cases."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, goto

GROUP = "江南花园小区物业纠纷"


def open_menu(page) -> None:
    toggle = page.locator("[data-menu-toggle]")
    if toggle.is_visible():
        toggle.click()


def test_an_officer_keeps_a_case_group_and_a_mediator_holds_a_combined_session(open_session):
    officer = open_session("officer", viewport=PHONE)
    page = officer.page
    officer.go("/referrals/?state=submitted")
    number = page.locator("tr[data-referral-id] a.number").first.inner_text().strip()

    open_menu(page)
    page.locator("[data-nav=case_groups]").click()
    expect(page.locator("h1")).to_contain_text("类案")
    page.get_by_role("link", name=GROUP).click()
    expect(page.locator("h1")).to_contain_text(GROUP)
    members = page.locator("[data-group-members] tr[data-member]")
    before = members.count()
    assert before >= 1

    add = page.locator("details[data-record=join_case_group]")
    add.locator("summary").click()
    add.locator("input[name=referral]").fill("JM-2099-000001")
    add.locator("button[type=submit]").click()
    add = page.locator("details[data-record=join_case_group]")
    expect(add).to_have_attribute("open", "")
    expect(add.locator(".error-summary")).to_contain_text("未找到您可查看的案件")
    add.locator("input[name=referral]").fill(number)
    add.locator("button[type=submit]").click()
    expect(page.locator(".message.success")).to_contain_text("列入本类案")
    expect(page.locator("[data-group-members] tr[data-member]")).to_have_count(before + 1)
    officer.shot("officer-case-group-phone")
    group_url = page.url

    # The 类案 list counts the case just put in, and the home page's card says the same.
    officer.go("/referrals/groups/")
    row = page.locator("[data-case-groups] tr[data-case-group]", has_text=GROUP)
    expect(row.locator("[data-figure=cases]")).to_have_text(str(before + 1))
    officer.go("/")
    card = page.locator("[data-dash-case-groups]")
    expect(card).to_be_visible()
    expect(card).to_contain_text("类案化解")
    assert int(card.locator("[data-figure=cases]").get_attribute("data-value")) >= before + 1

    mediator = open_session("mediator", viewport=PHONE)
    mpage = mediator.page
    goto(mpage, group_url)
    panel = mpage.locator("[data-group-session-panel]")
    expect(panel).to_be_visible()
    panel.locator("summary").click()
    boxes = panel.locator("input[name=referrals]")
    chosen = min(boxes.count(), 2)
    assert chosen >= 1
    for i in range(chosen):
        boxes.nth(i).check()
    panel.locator("input[name=held_on]").fill(datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date().isoformat())
    panel.locator("input[name=location]").fill("江南花园小区会议室")
    panel.locator("textarea[name=participants]").fill("业主代表及物业公司")
    panel.locator("textarea[name=record]").fill("双方同意公示收支明细后再议。")
    panel.locator("button[type=submit]").click()
    expect(mpage.locator(".message.success")).to_contain_text(re.compile(rf"记入 {chosen} 件案件"))
