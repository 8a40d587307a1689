"""Issue 18's journey on a phone: the texts a referral sends are in var/sms.log, each with the party's
own link; the party opens it, types the code from the log, gives consent, and later rates the
mediation — in a browser context of its own, logged in as nobody."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, SCREENSHOTS, confirm, goto
from tests.factories import day

PETITIONER, RESPONDENT = "13911115201", "13722225202"  # numbers no other journey uses (daily cap)


def masked(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}"


def texts_to(server_var, number: str, template: str) -> list[str]:
    log = server_var / "sms.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [line for line in lines if masked(number) in line and f"[{template}]" in line]


def wait_for_text(page, server_var, number: str, template: str, count: int = 1) -> str:
    for _ in range(50):
        found = texts_to(server_var, number, template)
        if len(found) >= count:
            return found[-1]
        page.wait_for_timeout(200)
    raise AssertionError(f"no {template} text to {masked(number)} in sms.log")


def link_in(line: str) -> str:
    return re.search(r"进度查询：(http://\S+/p/\S+/)", line).group(1)


def register_without_respondents_consent(officer) -> str:
    page = officer.go("/referrals/new/").page
    page.fill("#id_received_on", day())
    page.select_option("#id_category", "neighbour")
    page.fill("#id_summary", "个人链接：两户因围墙滴水发生争执。")
    page.fill("#id_claims", "请求改造排水。")
    for i, (role, name, phone, consented) in enumerate(
        [("petitioner", "欧阳海", PETITIONER, True), ("respondent", "司徒敏", RESPONDENT, False)]
    ):
        page.select_option(f"#id_parties-{i}-role", role)
        page.fill(f"#id_parties-{i}-name", name)
        page.fill(f"#id_parties-{i}-phone", phone)
        if consented:
            page.fill(f"#id_parties-{i}-consent_given_on", day())
            page.select_option(f"#id_parties-{i}-consent_method", "written")
    page.check("input[name=scope_ground][value=civil_between_citizens]")
    for box in page.locator("input[name=exclusions_absent]").all():
        box.check()
    target = page.locator("#id_target option", has_text="环市街道人民调解委员会").first.get_attribute("value")
    page.select_option("#id_target", target)
    page.click("button:has-text('保存草稿')")
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    return page.url


def open_as_party(browser, link: str, server_var, number: str):
    """A phone with no account: open the link, ask for the code, type the one the log shows."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN", service_workers="block")
    page = context.new_page()
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("验证身份")
    before = len(texts_to(server_var, number, "access_code"))
    page.click("[data-send-code]")
    expect(page.locator(".message.success")).to_contain_text("验证码已发送")
    code = re.search(r"验证码(\d{6})", wait_for_text(page, server_var, number, "access_code", before + 1)).group(1)
    page.fill("#code", code)
    page.click("button:has-text('查看我的纠纷')")
    return context, page


def test_a_party_follows_consents_and_rates_through_the_link_on_a_phone(open_session, browser, server_var):
    officer = open_session("officer", viewport=PHONE)
    url = register_without_respondents_consent(officer)
    page = officer.page
    # The respondent has not consented: the office sends their link from the draft.
    row = page.locator("#party-messages li", has_text="司徒敏")
    expect(row).to_contain_text("未登记同意调解")
    row.locator("button:has-text('发送个人链接')").click()
    expect(page.locator(".message.success")).to_contain_text("已向司徒敏")
    officer.shot("officer-party-messages-phone")
    link = link_in(wait_for_text(page, server_var, RESPONDENT, "party_link"))

    context, party = open_as_party(browser, link, server_var, RESPONDENT)
    expect(party.locator("[data-plain-state]")).to_contain_text("正在登记")
    party.check("input[name=agree]")
    party.click("button:has-text('确认同意')")
    expect(party.locator(".message.success")).to_contain_text("已记录您同意人民调解")
    expect(party.locator("#consent-given")).to_contain_text("当事人在线确认")

    # Now complete, the office refers it; both parties get a text with their link. The party's consent
    # changed the referral, so the officer's page may be reloading itself (live.js) as we navigate.
    goto(page, url)
    page.click("details[data-action=submit] button[type=submit]")
    confirm(page)
    expect(page.locator(".message.success")).to_contain_text("已移交")
    made = [wait_for_text(page, server_var, n, "referral_made") for n in (PETITIONER, RESPONDENT)]
    assert link_in(made[1]) == link  # the same link, in every later text
    party.reload()
    expect(party.locator("[data-plain-state]")).to_contain_text("等待受理")

    # The committee accepts and ends the mediation with an oral agreement.
    mediator = open_session("mediator", viewport=PHONE).go(url.replace(officer.server, ""))
    m = mediator.page
    m.click("details[data-action=accept] summary")
    m.select_option("details[data-action=accept] select[name=lead]", label="黄丽华")
    m.check("details[data-action=accept] input[name=rights_explained]")
    m.click("details[data-action=accept] button[type=submit]")
    expect(m.locator("h1")).to_contain_text("调解中")
    m.click("details[data-record=session] summary")
    m.fill("details[data-record=session] input[name=location]", "环市街道调解室")
    m.fill("details[data-record=session] textarea[name=participants]", "双方当事人")
    m.fill("details[data-record=session] textarea[name=record]", "双方同意改造排水。")
    m.click("details[data-record=session] button[type=submit]")
    m.click("details[data-action=succeed] summary")
    m.check("details[data-action=succeed] input[name=form][value=oral]")
    m.fill("details[data-action=succeed] textarea[name=terms]", "司徒敏十日内改造排水管。")
    m.fill("details[data-action=succeed] input[name=performance_method]", "自行施工")
    m.fill("details[data-action=succeed] input[name=performance_due]", day())
    m.click("details[data-action=succeed] button[type=submit]")
    confirm(m)
    expect(m.locator("h1")).to_contain_text("调解成功")

    # The petitioner opens their own link from the text and rates the mediation.
    petitioner_link = link_in(wait_for_text(m, server_var, PETITIONER, "agreement_reached"))
    assert petitioner_link != link
    context2, rater = open_as_party(browser, petitioner_link, server_var, PETITIONER)
    expect(rater.locator("#outcome")).to_contain_text("司徒敏十日内改造排水管")
    expect(rater.locator("#status")).to_contain_text("黄丽华")
    rater.check("input[name=satisfaction][value=satisfied]")
    rater.fill("#note", "调解员很耐心。")
    rater.click("button:has-text('提交评价')")
    expect(rater.locator(".message.success")).to_contain_text("感谢您的评价")
    expect(rater.locator("#rated")).to_be_visible()
    if SCREENSHOTS is not None:  # make screenshots: the party's page as the party sees it
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        rater.screenshot(path=str(SCREENSHOTS / "party-page-phone.jpg"), full_page=True, type="jpeg", quality=70)

    # Staff see it on the case, as the party's own: the open case page follows by itself.
    expect(m.locator("#followups")).to_contain_text("当事人在线评价（欧阳海）", timeout=10000)
    context.close()
    context2.close()
