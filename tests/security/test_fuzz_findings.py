"""What the fuzzing and the matrix found, one example each.

Each was a 500, a wrong answer or a missing audit entry when found; each test keeps it fixed.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from core.models import AccessLog
from tests.conftest import api
from tests.fixtures.rosters import builders as b
from townships.models import Mediator, RosterImport

pytestmark = pytest.mark.django_db

TOO_LONG = "9" * 23  # beyond a 64-bit integer


@pytest.mark.parametrize(
    "url",
    [
        f"/api/referrals/?target={TOO_LONG}",
        f"/api/referrals/?origin={TOO_LONG}",
        f"/api/exports/referrals.xlsx?target={TOO_LONG}",
        f"/api/stats/summary/?origin={TOO_LONG}",
        f"/api/exports/statistics.xlsx?target={TOO_LONG}",
        f"/api/mediators/?organisation={TOO_LONG}",
    ],
)
def test_an_id_too_long_for_the_database_is_a_400_naming_the_parameter(people, url):
    response = api(people.city).get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert list(response.json()["errors"]) == [name]


@pytest.mark.parametrize("body", [[None], [], 7, "text"])
def test_patching_a_draft_with_something_other_than_an_object_is_a_400(people, story, body):
    draft = story.draft()
    response = api(people.officer).patch(f"/api/referrals/{draft.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def upload(user, data: bytes, name: str):
    return api(user).post(
        "/api/roster-imports/", {"file": b.upload(name, data), "dry_run": "false"}, format="multipart"
    )


def bad_deflate_xlsx() -> bytes:
    """An xlsx whose [Content_Types].xml does not unpack (its deflate stream damaged)."""
    source = b.xlsx_bytes([b.person(1)])
    with zipfile.ZipFile(io.BytesIO(source)) as z:
        info = z.getinfo("[Content_Types].xml")
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(source)
    for offset in range(start + 2, start + 12):
        damaged[offset] ^= 0xFF
    return bytes(damaged)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("花名册.xlsx", bad_deflate_xlsx()),
        ("花名册.xls", b.fixture("roster.xls")[:513]),  # python-calamine panics (a BaseException)
    ],
    ids=["xlsx part that does not unpack", "xls that makes the parser panic"],
)
def test_a_file_that_breaks_the_parser_is_refused_not_a_500_and_leaves_no_batch_running(people, name, data):
    before = Mediator.objects.count()
    response = upload(people.supervisor, data, name)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "file_refused"
    assert Mediator.objects.count() == before
    assert not RosterImport.objects.filter(status__in=["queued", "running", "failed"]).exists()


@pytest.mark.parametrize("url", ["/api/referrals/-1/", "/api/referrals/abc/timeline/", "/api/nothing-here/"])
def test_an_api_path_matching_no_url_pattern_answers_the_api_error_body(people, url):
    response = api(people.officer).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("url", ["/api/stats/summary/?to=9999-12-31", "/api/exports/statistics.xlsx?to=9999-12-31"])
def test_a_statistics_period_ending_in_december_9999_is_answered(people, url):
    assert api(people.city).get(url).status_code == 200


def test_a_referral_received_before_2000_is_refused_as_a_typing_slip(people):
    body = {"received_on": "1900-01-01", "category": "neighbour", "summary": "x"}
    response = api(people.officer).post("/api/referrals/", body, format="json")
    assert response.status_code == 400
    assert "received_on" in response.json()["errors"]


@pytest.mark.parametrize(
    ("url", "action"),
    [("/api/exports/referrals.xlsx", "export_ledger"), ("/api/exports/roster.xlsx", "export_roster")],
)
def test_exporting_the_ledger_or_the_roster_is_recorded_in_the_read_audit(people, story, url, action):
    story.mediating()
    response = api(people.officer if action == "export_ledger" else people.supervisor).get(url)
    assert response.status_code == 200
    entry = AccessLog.objects.get(action=action)
    assert entry.detail["rows"] >= 1
    assert entry.region_code.startswith("4407")  # every row is in Jiangmen: the entry lands in its region


def test_a_body_no_parser_can_read_is_a_415_the_schema_documents():
    """Found by schemathesis: a malformed multipart body to /api/auth/token/ answered 415, which the
    schema did not list. DRF refuses such bodies before any view runs, so every operation with a
    body documents 415 (core/openapi.py)."""
    from rest_framework.test import APIClient

    response = APIClient().generic("POST", "/api/auth/token/", b"username=a", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    schema = APIClient().get("/api/schema/?format=json").json()
    with_body = [op for item in schema["paths"].values() for op in item.values() if "requestBody" in op]
    assert with_body
    assert all("415" in op["responses"] for op in with_body)
