"""Roster pages: the list per committee, and upload → preview → apply as a person would click it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.factories import make_mediator
from tests.fixtures.rosters import builders as b
from townships.models import Mediator, RosterImport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def page(user, url: str, **params):
    return login(user).get(url, params)


# --- The roster list -------------------------------------------------------------------------


def test_the_header_menu_links_to_the_rosters(people):
    html = page(people.mediator, reverse("referrals:list")).content.decode()
    assert f'href="{reverse("townships:rosters")}"' in html


def test_a_roster_keeper_sees_the_committees_of_the_region_with_full_id_numbers(people):
    response = page(people.supervisor, reverse("townships:rosters"))
    assert response.status_code == 200
    html = response.content.decode()
    assert people.lead.id_number in html
    assert people.lead.mobile in html
    assert people.other_lead.name not in html  # 台山市 is not 蓬江区
    assert "导入花名册" in html


def test_a_committee_member_reads_their_own_roster_with_id_numbers_masked(people):
    html = page(people.mediator, reverse("townships:rosters")).content.decode()
    assert people.second.name in html
    assert people.second.id_number not in html
    assert people.second.id_number[:6] + "********" + people.second.id_number[-4:] in html
    assert people.second.mobile in html  # colleagues call each other
    assert people.other_lead.name not in html
    assert "导入花名册" not in html


@pytest.mark.parametrize("persona", ["officer", "outsider"])
def test_people_without_a_roster_are_refused(people, persona):
    assert page(people.all()[persona], reverse("townships:rosters")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(people):
    from django.test import Client

    response = Client().get(reverse("townships:rosters"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_list_filters_by_status_search_and_committee(people):
    gone = make_mediator(people.huanshi, name="离任者", active=False)
    url = reverse("townships:rosters")
    assert gone.name not in page(people.supervisor, url).content.decode()
    inactive = page(people.supervisor, url, status="inactive").content.decode()
    assert gone.name in inactive and people.lead.name not in inactive
    searched = page(people.supervisor, url, search=people.second.id_number).content.decode()
    assert people.second.name in searched and people.lead.name not in searched
    city = page(people.city, url, committee=people.taicheng.pk).content.decode()
    assert people.other_lead.name in city and people.lead.name not in city
    assert f"organisation={people.taicheng.pk}" in city  # the export button keeps the filter


def test_the_list_is_paged(people):
    for i in range(55):
        make_mediator(people.huanshi, name=f"调解员甲{i:02d}")
    html = page(people.supervisor, reverse("townships:rosters"), committee=people.huanshi.pk).content.decode()
    assert "第 1 / 2 页" in html
    assert 'rel="next"' in html


# --- Import: upload, preview, apply ----------------------------------------------------------


def upload(client, data: bytes, name: str = "花名册.xlsx", **fields):
    return client.post(reverse("townships:import"), {"file": b.upload(name, data), **fields})


def test_uploading_shows_a_preview_and_applying_writes_the_roster(people):
    client = login(people.supervisor)
    response = upload(client, b.fixture("roster.xls"), "roster.xls")
    preview = RosterImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("townships:import_detail", args=[preview.pk])
    html = client.get(response["Location"]).content.decode()
    assert "花名册导入预览" in html
    assert "将新增" in html and "确认导入" in html
    assert not Mediator.objects.filter(name="李秀英").exists()

    response = client.post(reverse("townships:import_apply", args=[preview.pk]))
    applied = RosterImport.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == reverse("townships:import_detail", args=[applied.pk])
    assert Mediator.objects.filter(name="李秀英", committee=people.huanshi).exists()
    html = client.get(response["Location"]).content.decode()
    assert "已全部导入" in html and "已新增" in html
    html = client.get(reverse("townships:import_detail", args=[preview.pk])).content.decode()
    assert "这份预览已确认导入" in html and '<button type="submit" class="primary">确认导入' not in html


def test_a_preview_with_mistakes_lists_each_by_row_and_column_and_offers_the_error_list(people):
    client = login(people.supervisor)
    upload(client, b.xlsx_bytes([b.person(1), b.person(2, 性别="女")], titles=("花名册",)))
    record = RosterImport.objects.get()
    html = client.get(reverse("townships:import_detail", args=[record.pk])).content.decode()
    assert "第 4 行" in html and "性别 (E)" in html and "与身份证号不一致" in html
    assert "下载错误清单" in html
    assert reverse("api-roster-import-errors", args=[record.pk]) in html
    assert "确认导入" not in html
    assert client.post(reverse("townships:import_apply", args=[record.pk])).status_code == 302
    assert RosterImport.objects.count() == 1  # nothing was applied


def test_a_refused_file_shows_why(people):
    client = login(people.supervisor)
    upload(client, b.encrypted_xlsx())
    html = client.get(reverse("townships:import_detail", args=[RosterImport.objects.get().pk])).content.decode()
    assert "文件被拒绝" in html and "密码" in html


def test_the_import_page_is_for_roster_keepers_only(people):
    assert page(people.mediator, reverse("townships:import")).status_code == 403
    html = page(people.supervisor, reverse("townships:import")).content.decode()
    assert "上传并预览" in html and reverse("api-roster-template") in html


def test_another_persons_import_is_not_found(people):
    client = login(people.supervisor)
    upload(client, b.xlsx_bytes([b.person(1)]))
    record = RosterImport.objects.get()
    assert page(people.city, reverse("townships:import_detail", args=[record.pk])).status_code == 404
    assert login(people.city).post(reverse("townships:import_apply", args=[record.pk])).status_code == 404


def test_a_running_import_shows_a_progress_bar_wired_to_the_page_script(people):
    record = RosterImport.objects.create(created_by=people.supervisor, file_name="大表.xlsx", status="running")
    html = page(people.supervisor, reverse("townships:import_detail", args=[record.pk])).content.decode()
    assert '<progress id="import-progress"' in html
    assert f'data-import-id="{record.pk}"' in html and 'data-running="true"' in html
    assert "js/roster_import.js" in html


def test_the_list_costs_the_same_queries_however_many_people_are_on_it(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(people.supervisor)
    url = reverse("townships:rosters")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    # Session, user, grants (2), committees, region names, count, page, the header's memberships and
    # unread count, the committee filter's options, the committees' make-up (2), the session save
    # (3 with its savepoint).
    assert queries() == 16
    for i in range(30):
        make_mediator(people.huanshi if i % 2 else people.taicheng, name=f"调解员乙{i:02d}")
    assert queries() == 16
