"""升级调解 on a phone, over the demo data: the district bureau's supervisor finds a mediation that
ended without agreement at one of its townships, escalates it to the district's joint committee from
the action bar (only that committee is offered; the step is confirmed first), and the case shows its
new tier; the home page's 分层化解 figures count it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, confirm

JOINT = "蓬江区矛盾纠纷联合人民调解委员会"


def test_a_supervisor_escalates_a_failed_mediation_from_a_phone(open_session):
    supervisor = open_session("supervisor", viewport=PHONE)
    page = supervisor.page
    escalated_before = int(page.locator("[data-figure=escalated]").first.get_attribute("data-value"))

    supervisor.go("/referrals/?state=failed&region=440703")
    rows = page.locator("tr[data-referral-id]")
    expect(rows.first).to_be_visible()
    rows.first.locator("a.number").click()
    expect(page.locator("h1")).to_contain_text("调解终止")

    bar = page.locator("[data-action-bar]")
    bar.get_by_role("link", name="升级调解").click()
    form = page.locator("details[data-action=escalate]")
    expect(form).to_have_attribute("open", "")
    options = form.locator("select[name=target] option")
    expect(options.filter(has_text=JOINT)).to_have_count(1)
    expect(options.filter(has_text="街道人民调解委员会")).to_have_count(0)
    form.locator("select[name=target]").select_option(label=JOINT)
    form.locator("textarea[name=reason]").fill("镇街调解未果，双方分歧较大，升级由区联合调委会统筹调解。")
    supervisor.shot("supervisor-escalate-phone")
    form.locator("button[type=submit]").click()
    confirm(page)
    expect(page.locator(".message.success")).to_contain_text("已升级调解")
    expect(page.locator("h1")).to_contain_text("调解中")
    expect(page.locator(".flag.escalated")).to_contain_text("县(区)级")
    expect(page.locator("[data-action-bar] a", has_text="升级调解")).to_have_count(0)

    supervisor.go("/")
    tile = page.locator("[data-figure=escalated]").first
    expect(tile).to_have_attribute("data-value", str(escalated_before + 1))
    tile.click()
    expect(page).to_have_url(re.compile(r"escalated=true"))
    expect(page.locator("tr[data-referral-id]")).to_have_count(escalated_before + 1)
