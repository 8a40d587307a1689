"""static/js/live.js run under Node with a stand-in page: what it asks the server for, and how.

Every request the script makes by itself (fragment refreshes after a push, the re-read after a
reconnect) carries the marker header, so that it does not count as the person's activity for the
idle timeout (``accounts.middleware``). Skipped where Node is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.conf import settings

from accounts.middleware import LIVE_REFRESH_HEADER

NODE = shutil.which("node") or shutil.which("nodejs")

# A page with a live list and a referral's detail, a socket the test drives, and fetch recorded.
HARNESS = r"""
const fs = require("fs");
const fetches = [];
const sockets = [];
function element(attributes) {
  return {
    attributes: attributes, textContent: "", innerHTML: "", classList: { add() {} },
    getAttribute(name) { return name in this.attributes ? this.attributes[name] : null; },
    setAttribute(name, value) { this.attributes[name] = String(value); },
    querySelector() { return null; },
    querySelectorAll() { return []; },
    contains() { return false; },
  };
}
const badge = element({ "data-count": "0" });
const bell = element({ href: "/notifications/" });
const list = element({ "data-fragment-url": "/referrals/?fragment=1" });
const inbox = element({ "data-fragment-url": "/notifications/?fragment=1" });
const detail = element({ "data-referral": "7", "data-state": "submitted", "data-event": "12" });
const found = {
  "[data-notifications-link]": bell, "[data-live-list]": list, "[data-live-inbox]": inbox,
};
const all = {
  "[data-live-list][data-fragment-url]": [list], "[data-live-inbox][data-fragment-url]": [inbox],
  "[data-live-detail]": [detail],
};
global.window = global;
window.addEventListener = function () {};
global.document = {
  documentElement: element({}), body: element({}), activeElement: null, visibilityState: "visible",
  getElementById(id) { return id === "notification-count" ? badge : null; },
  querySelector(selector) { return found[selector] || null; },
  querySelectorAll(selector) { return all[selector] || []; },
  addEventListener() {},
};
let reloads = 0;
global.location = { protocol: "http:", host: "testserver", reload() { reloads += 1; } };
global.CustomEvent = function () {};
global.WebSocket = function (url) { this.url = url; this.readyState = 1; sockets.push(this); };
global.WebSocket.prototype.send = function () {};
global.WebSocket.prototype.close = function () {};
global.fetch = function (url, options) {
  fetches.push({ url: url, headers: (options && options.headers) || {} });
  return new Promise(function () {});
};
new Function(fs.readFileSync(process.argv[2], "utf8"))();
const socket = sockets[0];
function push(message) { socket.onmessage({ data: JSON.stringify(message) }); }
"""

MARKED = r"""
push({ type: "hello", unread: 0 });
push({ type: "referral.changed", referral: 7, state: "submitted" });
push({ type: "notification", unread: 1, notification: { id: 1, title: "t", body: "", url: "" } });
push({ type: "hello", unread: 1 });  // a reconnect, or the layer back: read everything again
setTimeout(function () { console.log(JSON.stringify(fetches)); process.exit(0); }, 700);
"""


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the page script")
def test_every_request_live_js_makes_by_itself_is_marked_as_not_the_users_activity(tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS + MARKED)
    script = settings.BASE_DIR / "static" / "js" / "live.js"
    result = subprocess.run([NODE, str(harness), str(script)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    fetches = json.loads(result.stdout)
    urls = {f["url"] for f in fetches}
    assert {"/referrals/?fragment=1", "/notifications/?fragment=1", "/api/referrals/7/"} <= urls
    unmarked = [f["url"] for f in fetches if f["headers"].get(LIVE_REFRESH_HEADER) != "1"]
    assert unmarked == []


# The page the actor lands on after their own step already shows that step (timeline entry 12):
# the push for it must not reload the page under them; a later change (13) must.
RELOADS = r"""
push({ type: "hello", unread: 0 });
push({ type: "referral.changed", referral: 7, state: "accepted", event: 12 });
const afterOwn = reloads;
push({ type: "referral.changed", referral: 7, state: "accepted", event: 13 });
console.log(JSON.stringify([afterOwn, reloads]));
process.exit(0);
"""


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the page script")
def test_a_case_page_reloads_only_for_a_change_it_does_not_already_show(tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS + RELOADS)
    script = settings.BASE_DIR / "static" / "js" / "live.js"
    result = subprocess.run([NODE, str(harness), str(script)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0, 1]
