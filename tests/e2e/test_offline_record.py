"""Issue 16 §2: a session record written with no signal is kept on the phone and sent when the
phone is back online — once, even if the page flushes it twice."""

from __future__ import annotations

import datetime

from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, confirm
from tests.e2e.test_journeys import register
from townships.validators import make_id_number

PHONE_390 = {"width": 390, "height": 844}
PETITIONER_ID = make_id_number("440703", datetime.date(1968, 3, 9), 71, male=False)


def test_a_session_record_written_offline_is_sent_when_the_phone_is_back_online(open_session):
    officer = open_session("officer", viewport=DESKTOP)
    url = register(officer, petitioner="甄秀兰", id_number=PETITIONER_ID, tag="offline")
    officer.page.click("details[data-action=submit] button[type=submit]")
    confirm(officer.page)
    expect(officer.page.locator(".message.success")).to_contain_text("已移交")

    mediator = open_session("mediator", viewport=PHONE_390).go(url.replace(officer.server, ""))
    page = mediator.page
    bar = page.locator("[data-action-bar]")
    bar.get_by_role("link", name="受理").click()
    page.locator("details[data-action=accept] input[name=rights_explained]").check()
    page.locator("details[data-action=accept] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("调解中")
    # The bar's links open their forms by script: wait until the page's scripts have run (the
    # heading shows while the page is still being read).
    page.wait_for_load_state("load")

    # In the village: no network. The record is written and kept on the phone.
    mediator.context.set_offline(True)
    bar.get_by_role("link", name="记录调解").click()
    session = page.locator("details[data-record=session]")
    expect(session).to_have_attribute("open", "")
    session.locator("input[name=location]").fill("杜阮镇北芦村委会")
    session.locator("textarea[name=participants]").fill("双方当事人、村调解员")
    session.locator("textarea[name=record]").fill("离线记录：双方就排水沟位置达成初步共识。")
    session.locator("button[type=submit]").click()
    expect(page.locator("#offline-outbox")).to_contain_text("已保存在本机")
    expect(page.locator("#sessions")).not_to_contain_text("杜阮镇北芦村委会")
    stored = page.evaluate("JSON.parse(localStorage.getItem('fangdiao-offline-outbox'))")
    assert len(stored) == 1

    # Back online: sent by itself, the page shows it, and the phone keeps nothing.
    mediator.context.set_offline(False)
    expect(page.locator("#sessions")).to_contain_text("杜阮镇北芦村委会", timeout=15000)
    assert page.evaluate("JSON.parse(localStorage.getItem('fangdiao-offline-outbox') || '[]').length") == 0
    expect(page.locator("#sessions")).to_contain_text("离线记录")

    # Sent once: the same entry sent again (another tab flushing, a reply lost on the way back)
    # records nothing more — it carries the form's own form_token.
    count = page.locator("#sessions").text_content().count("杜阮镇北芦村委会")
    assert count == 1
    status = page.evaluate(
        """entry => fetch(entry.action, {method: "POST", body: new URLSearchParams(entry.fields),
                                         credentials: "same-origin"}).then(r => r.status)""",
        stored[0],
    )
    assert status == 200
    page.reload()
    assert page.locator("#sessions").text_content().count("杜阮镇北芦村委会") == 1
