"""The journeys of issue 8, in a real browser, at desktop and phone sizes.

One referral goes the whole way: the officer registers it (and is warned of a repeated petitioner),
submits; the mediator's badge and list update without a reload; the mediator accepts, records a
session and concludes with an agreement; the officer sees the outcome live; the reviewer closes;
a follow-up is recorded; the county supervisor watches and issues a supervision order; a mediator of
another township is told "not found".
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, confirm, goto
from tests.factories import day
from tests.files import pdf_upload

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def badge_count(session) -> int:
    return int(session.page.locator("#notification-count").inner_text())


def tile_values(session) -> str:
    """The dashboard's figures, as the page shows them now."""
    return session.page.evaluate(
        "JSON.stringify(Array.from(document.querySelectorAll('[data-figure][data-value]'))"
        ".map(t => [t.dataset.figure, t.dataset.value]))"
    )


def register(officer, *, petitioner: str, id_number: str, tag: str) -> str:
    """Fill the registration form as an officer would; returns the new referral's URL."""
    page = officer.go("/referrals/new/").page
    page.fill("#id_received_on", day())
    page.fill("#id_petition_no", f"E2E-{tag}")
    page.select_option("#id_category", "neighbour")
    page.fill("#id_summary", f"{tag}：两户因排水沟堵塞发生争执，多次争吵。")
    page.fill("#id_claims", "请求疏通排水沟并赔偿损失。")
    for i, (role, name, idn, phone, method) in enumerate(
        [
            ("petitioner", petitioner, id_number, "13800138000", "written"),
            ("respondent", "李小红", "", "13900139000", "oral"),
        ]
    ):
        page.select_option(f"#id_parties-{i}-role", role)
        page.fill(f"#id_parties-{i}-name", name)
        if idn:
            page.fill(f"#id_parties-{i}-id_number", idn)
        page.fill(f"#id_parties-{i}-phone", phone)
        page.fill(f"#id_parties-{i}-consent_given_on", day())
        page.select_option(f"#id_parties-{i}-consent_method", method)
    page.check("input[name=scope_ground][value=civil_between_citizens]")
    for box in page.locator("input[name=exclusions_absent]").all():
        box.check()
    target = page.locator("#id_target option", has_text="环市街道人民调解委员会").first.get_attribute("value")
    page.select_option("#id_target", target)
    page.click("button:has-text('保存草稿')")
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    return page.url


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_referral_from_registration_to_follow_up(open_session, viewport):
    tag = "phone" if viewport is PHONE else "desktop"
    name = "desktop" if viewport is DESKTOP else "phone"
    officer = open_session("officer", viewport=viewport)
    mediator = open_session("mediator", viewport=viewport)
    mediator.go("/referrals/")
    badge_before = badge_count(mediator)
    supervisor = open_session("supervisor", viewport=viewport)  # watching the county's dashboard
    tiles_before = tile_values(supervisor)

    # The officer registers a first referral, then a second for the same petitioner.
    register(officer, petitioner="周建国", id_number="11010519491231002X", tag=f"{tag}-1")
    officer.page.click("details[data-action=submit] button[type=submit]")
    confirm(officer.page)
    expect(officer.page.locator(".message.success")).to_contain_text("已移交")
    url = register(officer, petitioner="周建国", id_number="11010519491231002X", tag=f"{tag}-2")
    expect(officer.page.locator("[data-duplicate-warning]")).to_contain_text("可能重复")
    officer.shot(f"officer-referral-draft-{name}")
    officer.page.click("details[data-action=submit] button[type=submit]")
    confirm(officer.page)
    expect(officer.page.locator(".message.success")).to_contain_text("已移交")
    number = officer.page.locator("h1").inner_text().split()[0]

    # The county supervisor's dashboard figures change without a reload.
    supervisor.page.wait_for_function(
        "before => JSON.stringify(Array.from(document.querySelectorAll('[data-figure][data-value]'))"
        ".map(t => [t.dataset.figure, t.dataset.value])) !== before",
        arg=tiles_before,
        timeout=5000,
    )
    # The mediator's badge and list change without a reload.
    expect(mediator.page.locator("#notification-count")).not_to_have_text(str(badge_before), timeout=5000)
    expect(mediator.page.locator("#referral-list")).to_contain_text(number, timeout=5000)
    mediator.shot(f"mediator-list-{name}")

    # The mediator accepts, records a session and concludes with an oral agreement.
    goto(mediator.page, url)
    mediator.page.click("details[data-action=accept] summary")
    mediator.page.select_option("details[data-action=accept] select[name=lead]", label="黄丽华")
    mediator.page.check("details[data-action=accept] input[name=rights_explained]")
    mediator.page.click("details[data-action=accept] button[type=submit]")
    expect(mediator.page.locator("h1")).to_contain_text("调解中")
    mediator.page.click("details[data-record=session] summary")
    mediator.page.fill("details[data-record=session] input[name=location]", "环市街道调解室")
    mediator.page.fill("details[data-record=session] textarea[name=participants]", "双方当事人")
    mediator.page.fill("details[data-record=session] textarea[name=record]", "听取双方陈述，双方同意协商。")
    mediator.page.click("details[data-record=session] button[type=submit]")
    expect(mediator.page.locator("#sessions")).to_contain_text("环市街道调解室")
    mediator.page.click("details[data-action=succeed] summary")
    mediator.page.check("details[data-action=succeed] input[name=form][value=oral]")
    mediator.page.fill("details[data-action=succeed] textarea[name=terms]", "李小红三日内疏通排水沟，赔偿500元。")
    mediator.page.fill("details[data-action=succeed] input[name=performance_method]", "现金支付")
    mediator.page.fill("details[data-action=succeed] input[name=performance_due]", day())
    goto(officer.page, url)
    mediator.page.click("details[data-action=succeed] button[type=submit]")
    confirm(mediator.page)
    expect(mediator.page.locator("h1")).to_contain_text("调解成功")

    # The officer sees the outcome without reloading by hand.
    expect(officer.page.locator("h1")).to_contain_text("调解成功", timeout=5000)
    mediator.page.click("details[data-record=attach] summary")
    mediator.page.select_option("details[data-record=attach] select[name=kind]", "identity_proof")
    upload = pdf_upload()
    mediator.page.set_input_files(
        "details[data-record=attach] input[type=file]",
        files=[{"name": "id.pdf", "mimeType": "application/pdf", "buffer": upload.read()}],
    )
    mediator.page.click("details[data-record=attach] button[type=submit]")
    expect(mediator.page.locator("#dossier")).to_contain_text("已上传1份")
    mediator.shot(f"mediator-referral-{name}")

    # The reviewer closes; the follow-up is recorded.
    reviewer = open_session("reviewer", viewport=viewport).go(url.replace(officer.server, ""))
    reviewer.page.click("details[data-action=close] summary")
    reviewer.page.fill("details[data-action=close] textarea[name=note]", "调解程序规范，卷宗齐全，同意办结。")
    reviewer.page.click("details[data-action=close] button[type=submit]")
    confirm(reviewer.page)
    expect(reviewer.page.locator("h1")).to_contain_text("已办结")
    reviewer.page.click("details[data-record=followup] summary")
    reviewer.page.select_option("details[data-record=followup] select[name=method]", "phone")
    reviewer.page.check("details[data-record=followup] input[name=satisfaction][value=satisfied]")
    reviewer.page.click("details[data-record=followup] button[type=submit]")
    expect(reviewer.page.locator("#followups")).to_contain_text("满意")
    reviewer.shot(f"reviewer-referral-{name}")

    # A mediator of another township is told the referral does not exist.
    stranger = open_session("mediator2", viewport=viewport)
    response = stranger.page.goto(url)
    assert response.status == 404
    expect(stranger.page.locator("h1")).to_contain_text("未找到")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_county_supervisor_watches_and_supervises(open_session, viewport):
    name = "desktop" if viewport is DESKTOP else "phone"
    supervisor = open_session("supervisor", viewport=viewport)
    supervisor.shot(f"supervisor-dashboard-{name}")
    supervisor.go("/referrals/?overdue=true&state=mediating")
    supervisor.page.locator("#referral-list a.number").first.click()
    supervisor.page.click("details[data-record=supervise] summary")
    supervisor.page.fill("details[data-record=supervise] textarea[name=note]", "请加快调解进度，按期办结。")
    supervisor.page.click("details[data-record=supervise] button[type=submit]")
    expect(supervisor.page.locator("#supervision")).to_contain_text("请加快调解进度")
    supervisor.shot(f"supervisor-referral-{name}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_each_roles_main_pages(open_session, viewport):
    name = "desktop" if viewport is DESKTOP else "phone"
    for username in ("officer", "mediator", "city"):
        session = open_session(username, viewport=viewport)
        session.shot(f"{username}-home-{name}")
        session.go("/referrals/")
        session.shot(f"{username}-list-{name}")


def roster_file(tmp_path, name: str, rows: int, *, mistakes: int = 0):
    from tests.fixtures.rosters import builders as b

    people = [b.person(1000 + i, male=i % 2 == 0) for i in range(rows)]  # born 1972–1989
    for i in range(mistakes):
        people[i * 7]["身份证号码"] = people[i * 7]["身份证号码"][:-1] + (
            "0" if people[i * 7]["身份证号码"][-1] != "0" else "1"
        )
    path = tmp_path / name
    path.write_bytes(b.xlsx_bytes(people, titles=("蓬江区环市街道人民调解员花名册",)))
    return path


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_roster_is_checked_corrected_and_imported_through_the_page(open_session, viewport, tmp_path):
    name = "desktop" if viewport is DESKTOP else "phone"
    supervisor = open_session("supervisor", viewport=viewport).go("/rosters/import/")
    page = supervisor.page
    # A file with mistakes: the preview names each one by row and column, and nothing is written.
    page.set_input_files("input[type=file]", str(roster_file(tmp_path, "有误的花名册.xlsx", 20, mistakes=3)))
    page.click("form[data-roster-upload] button[type=submit]")
    page.wait_for_url("**/rosters/imports/*/")
    expect(page.locator("h2", has_text="处错误")).to_be_visible()
    expect(page.locator("table")).to_contain_text("身份证")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    supervisor.shot(f"supervisor-roster-errors-{name}")
    # The corrected, larger file: the progress bar moves while it is checked, then it is applied.
    # Playwright cannot look into a page while it waits for its own form's answer, so the page is
    # asked to note, at each progress push, what its bar shows (sessionStorage outlives the page).
    page.add_init_script(
        "document.addEventListener('fangdiao:import-progress', () => setTimeout(() => {"
        " const bar = document.getElementById('upload-progress-bar');"
        " if (bar && !bar.parentElement.hidden) sessionStorage.setItem('bar', String(bar.value)); }, 0));"
    )
    supervisor.go("/rosters/import/")
    page.set_input_files("input[type=file]", str(roster_file(tmp_path, f"花名册-{name}.xlsx", 6000)))
    page.click("form[data-roster-upload] button[type=submit]", no_wait_after=True)
    page.wait_for_url("**/rosters/imports/*/", timeout=60000)
    assert float(page.evaluate("sessionStorage.getItem('bar') || '0'")) > 0, "no progress was shown"
    expect(page.locator("h1")).to_contain_text("预览")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("div.message.success")).to_contain_text("已全部导入", timeout=60000)
    supervisor.shot(f"supervisor-roster-imported-{name}")


PAGES_BY_ROLE = {
    "officer": ["/", "/referrals/", "/referrals/new/", "/notifications/"],
    "mediator": ["/", "/referrals/"],
    "supervisor": ["/", "/referrals/", "/rosters/", "/rosters/import/", "/referrals/audit/"],
    "city": ["/"],
}


@pytest.mark.parametrize("username", list(PAGES_BY_ROLE))
def test_pages_pass_the_accessibility_check_and_stay_light(open_session, username):
    """axe-core (installed from PyPI with axe-playwright-python) finds no serious or critical
    violation, and no page loads more than 300 KB."""
    from axe_playwright_python.sync_playwright import Axe

    session = open_session(username)
    sizes: dict[str, int] = {}
    session.page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()) if r.ok else 0))
    axe = Axe()
    paths = list(PAGES_BY_ROLE[username])
    if "/referrals/" in paths:  # and the page of the first referral in the list
        session.go("/referrals/")
        paths.append(session.page.locator("#referral-list a.number").first.get_attribute("href"))
    for path in paths:
        sizes.clear()
        session.go(path)
        session.page.wait_for_load_state("networkidle")
        results = axe.run(session.page)
        serious = [
            (v["id"], v["impact"], v["nodes"][0]["target"])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{path}: {serious}"
        weight = sum(sizes.values())
        assert weight <= 300 * 1024, f"{path} loads {weight / 1024:.0f} KB"
