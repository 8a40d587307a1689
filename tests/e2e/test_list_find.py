"""Issue 16 §3 in a real browser on a 390 px phone: a referral found by the tail of its number, a
filter chip removed, the filter saved — and the page never wider than the phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

PHONE_390 = {"width": 390, "height": 844}


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_390["width"], f"the page is {width} px wide on a {PHONE_390['width']} px phone"


def test_a_tail_of_the_number_finds_it_and_a_chip_removes_its_filter_on_a_phone(open_session):
    officer = open_session("officer", viewport=PHONE_390)
    page = officer.go("/referrals/").page
    row = page.locator("#referral-list tr[data-referral-id]").first
    number = row.locator("a.number").inner_text()
    state = re.search(r"state-(\w+)", row.locator(".state").get_attribute("class"))[1]
    tail = number.split("-", 1)[1]  # 2026-000123: the year and the serial
    no_sideways_scroll(page)

    page.fill("#f-search", tail)
    page.select_option("#f-state", state)
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"search="))
    numbers = page.locator("#referral-list a.number")
    expect(numbers).to_have_count(1)
    expect(numbers.first).to_have_text(number)
    expect(page.locator(".list-total")).to_have_text("共 1 件")
    chips = page.locator("a[data-chip]")
    expect(chips).to_have_count(2)
    expect(chips.filter(has_text=f"「{tail}」")).to_have_count(1)
    no_sideways_scroll(page)
    officer.shot("officer-list-search-phone")

    # Removing the state chip keeps the search.
    chips.filter(has_text="状态：").click()
    page.wait_for_url(lambda url: "state=" not in url)
    assert f"search={tail}" in page.url
    expect(page.locator("a[data-chip]")).to_have_count(1)
    expect(page.locator("#f-search")).to_have_value(tail)
    expect(page.locator("#referral-list a.number").first).to_have_text(number)

    # And the search is kept as a saved filter, listed as a link.
    page.locator("details.save-filter summary").click()
    page.fill("#f-save-name", f"编号{tail}")
    page.locator("details.save-filter button[type=submit]").click()
    expect(page.locator("div.message.success, li.message.success")).to_contain_text(f"编号{tail}")
    expect(page.locator("a.chip.saved", has_text=f"编号{tail}")).to_have_count(1)
    no_sideways_scroll(page)
