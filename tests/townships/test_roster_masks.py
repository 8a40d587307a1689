"""One rule for who sees which roster and how masked: the roster page, its export and /api/mediators/
agree, and no search box gives back the digits a mask hides."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def page(user, **params) -> str:
    return login(user).get(reverse("townships:rosters"), params).content.decode()


def exported(user, **params) -> str:
    response = login(user).get("/api/exports/roster.xlsx", params)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return "\n".join(" ".join(str(c) for c in row if c is not None) for row in sheet.iter_rows(values_only=True))


def listed(user, **params) -> list[dict]:
    response = api(user).get("/api/mediators/", params)
    assert response.status_code == 200
    return response.json()["results"]


@pytest.mark.parametrize("persona", ["supervisor", "mediator"])
def test_page_export_and_api_show_the_same_numbers(people, persona):
    user = getattr(people, persona)
    entry = next(m for m in listed(user) if m["id"] == people.second.pk)
    for text in (page(user), exported(user)):
        assert entry["id_number"] in text
        assert entry["mobile"] in text
    if persona == "supervisor":  # keeps the region's rosters
        assert (entry["id_number"], entry["mobile"]) == (people.second.id_number, people.second.mobile)
    else:  # a colleague: calls, but no ID number
        assert entry["mobile"] == people.second.mobile
        assert entry["id_number"] != people.second.id_number and "*" in entry["id_number"]


def test_the_api_lists_only_the_rosters_the_page_shows(people):
    ids = {m["id"] for m in listed(people.mediator)}
    assert people.second.pk in ids and people.other_lead.pk not in ids
    assert api(people.officer).get("/api/mediators/").status_code == 403
    assert login(people.officer).get(reverse("townships:rosters")).status_code == 403


def test_a_masked_id_number_cannot_be_recovered_a_digit_at_a_time(people):
    hidden = people.second.id_number
    user = people.mediator
    for fragment in (hidden[-1:], hidden[-4:], hidden[-10:], hidden[6:]):
        assert people.second.name not in page(user, search=fragment, status="all")
        assert people.second.pk not in {m["id"] for m in listed(user, search=fragment)}
        assert people.second.name not in exported(user, search=fragment, active="all")
    # The whole number, typed in full, finds the person (without showing it unmasked).
    found = page(user, search=hidden)
    assert people.second.name in found and hidden[:6] + "********" + hidden[-4:] in found
    assert [m["id"] for m in listed(user, search=hidden)] == [people.second.pk]


def test_a_mobile_matches_only_whole(people):
    assert people.second.pk not in {m["id"] for m in listed(people.supervisor, search=people.second.mobile[-4:])}
    assert people.second.pk in {m["id"] for m in listed(people.supervisor, search=people.second.mobile)}
