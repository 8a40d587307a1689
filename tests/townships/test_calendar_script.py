"""static/js/calendar.js run under Node with a stand-in page and the calendar API's real answers.

Beside a date field the script says whether the day is a rest day (with the holiday's name), a
make-up working day, and whether the year's calendar is provisional; it asks the API once per year.
Skipped where Node is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.conf import settings

from tests.conftest import api

pytestmark = pytest.mark.django_db
NODE = shutil.which("node") or shutil.which("nodejs")

# Two date fields of a form, the script tag's data attributes, fetch answering from ANSWERS, and a
# "change" event sent after the first answers arrive. Prints what each field's hint says and the
# URLs fetched.
HARNESS = r"""
const fs = require("fs");
const answers = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const fetched = [];
const byId = {};
function element(attributes, extra) {
  return Object.assign({
    attributes: attributes, textContent: "", id: "", className: "",
    getAttribute(name) { return name in this.attributes ? this.attributes[name] : null; },
    setAttribute(name, value) { this.attributes[name] = String(value); },
    hasAttribute(name) { return name in this.attributes; },
    insertAdjacentElement(where, other) { this.next = other; byId[other.id] = other; },
    matches(selector) { return selector === "input[type=date]" && this.attributes.type === "date"; },
  }, extra || {});
}
const script = element({
  "data-url": "/api/calendar/", "data-text-rest": "休息日", "data-text-holiday": "法定节假日：%s",
  "data-text-makeup": "调休上班日", "data-text-provisional": "%s 年日历为暂定",
});
const received = element({ type: "date", "aria-describedby": "id_received_on_helptext" }, { value: "2027-02-05" });
const held = element({ type: "date" }, { value: "2027-02-04" });
let onChange = null;
global.window = global;
global.document = {
  currentScript: script,
  createElement() { return element({}); },
  getElementById(id) { return byId[id] || null; },
  querySelectorAll(selector) { return selector === "input[type=date]" ? [received, held] : []; },
  addEventListener(type, listener) { if (type === "change") { onChange = listener; } },
};
global.fetch = function (url) {
  fetched.push(url);
  const year = new URL(url, "http://testserver").searchParams.get("year");
  return Promise.resolve({ ok: true, json() { return Promise.resolve(answers[year]); } });
};
new Function(fs.readFileSync(process.argv[2], "utf8"))();
function hints() {
  return {
    received: received.next.textContent, held: held.next.textContent,
    describedby: received.getAttribute("aria-describedby"),
  };
}
setTimeout(function () {
  const before = hints();
  held.value = "2026-10-10";  // a make-up Saturday
  onChange({ target: held });
  received.value = "2027-02-09";  // the same year again: no second request
  onChange({ target: received });
  setTimeout(function () {
    console.log(JSON.stringify({ before: before, after: hints(), fetched: fetched }));
    process.exit(0);
  }, 50);
}, 50);
"""


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the page script")
def test_date_fields_say_which_days_are_rest_days_and_that_the_year_is_provisional(tmp_path, people):
    answers = {year: api(people.officer).get("/api/calendar/", {"year": year}).json() for year in (2026, 2027)}
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    (tmp_path / "harness.js").write_text(HARNESS)
    script = settings.BASE_DIR / "static" / "js" / "calendar.js"
    result = subprocess.run(
        [NODE, str(tmp_path / "harness.js"), str(script), str(tmp_path / "answers.json")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["before"]["received"] == "法定节假日：春节 2027 年日历为暂定"  # 除夕, by the statutory rule
    assert seen["before"]["held"] == "2027 年日历为暂定"  # a working day, but not yet published
    assert seen["before"]["describedby"] == "id_received_on_helptext date-hint-1"
    assert seen["after"]["held"] == "调休上班日"  # 2026 is published: nothing provisional to say
    assert seen["after"]["received"] == "2027 年日历为暂定"  # Tue Feb 9 works by rule
    assert seen["fetched"] == ["/api/calendar/?year=2027", "/api/calendar/?year=2026"]
