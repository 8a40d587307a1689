"""Issue 16 §3, lists that find things: search by any tail of a number, by petition number, party name
or whole ID number (within what the user may see); sorts with stable pages; the total; the township
picker grouped by county; the active filters as chips; saved filters."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from referrals.models import Referral, SavedFilter
from referrals.stats import FIGURES
from tests.conftest import api, login

pytestmark = pytest.mark.django_db


def numbers_found(user, search: str) -> set[str]:
    response = api(user).get("/api/referrals/", {"search": search, "page_size": 100})
    assert response.status_code == 200, response.content
    return {r["number"] for r in response.json()["results"]}


def page_ids(client, url: str) -> list[int]:
    html = client.get(url).content.decode()
    return [int(i) for i in re.findall(r'data-referral-id="(\d+)"', html)]


# --- Search ------------------------------------------------------------------------------------


@pytest.fixture
def numbered(people, story):
    """Five referrals at the mediator's committee, two at another township's, one renumbered into
    another year with the same serial as the first."""
    mine = [story.submitted() for _ in range(5)]
    elsewhere = [story.submitted(target=people.taicheng) for _ in range(2)]
    first = mine[0]
    prefix, year, serial = first.number.split("-")
    old = mine[4]
    Referral.objects.filter(pk=old.pk).update(number=f"{prefix}-{int(year) - 1}-{serial}")
    old.refresh_from_db()
    return mine, elsewhere, old


def test_a_tail_of_the_number_finds_exactly_the_referrals_ending_so(people, numbered):
    mine, elsewhere, old = numbered
    first = mine[0]
    prefix, year, serial = first.number.split("-")
    # The six digits: this year's and last year's of the same serial, nothing else.
    assert numbers_found(people.officer, serial) == {first.number, old.number}
    # With the year: only this year's.
    assert numbers_found(people.officer, f"{year}-{serial}") == {first.number}
    # The serial without its zeros after the year, lower case, full-width digits, the whole number.
    assert numbers_found(people.officer, f"{year}-{int(serial)}") == {first.number}
    assert numbers_found(people.officer, first.number.lower()) == {first.number}
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in f"{year}-{serial}")
    assert numbers_found(people.officer, wide) == {first.number}
    # The head of a number: every one of that prefix and year.
    expected = {r.number for r in [*mine, *elsewhere] if r.pk != old.pk}
    assert numbers_found(people.officer, f"{prefix}-{year}") == expected


def test_a_tail_finds_only_referrals_the_user_may_see(people, numbered):
    mine, elsewhere, _old = numbered
    other = elsewhere[0]
    tail = other.number.split("-", 1)[1]
    assert numbers_found(people.officer, tail) == {other.number}  # the office sees both townships'
    assert numbers_found(people.mediator, tail) == set()  # not the other township's
    assert numbers_found(people.other_mediator, tail) == {other.number}
    prefix, year, _serial = mine[1].number.split("-")
    assert numbers_found(people.mediator, f"{prefix}-{year}") <= {r.number for r in mine}
    assert all(r.number in numbers_found(people.mediator, r.number[-6:]) for r in mine[:4])


def test_petition_number_exactly_party_name_in_part(people, story):
    r = story.submitted(petition_no="XF-2026-0815")
    story.submitted(petition_no="XF-2026-08150")
    assert numbers_found(people.officer, "XF-2026-0815") == {r.number}
    assert r.number in numbers_found(people.officer, "大明")  # 王大明, a party of every referral


def test_an_id_number_is_found_only_whole(people, story):
    r = story.submitted()
    story.submitted()
    id_number = r.parties.get(role="petitioner").id_number
    assert numbers_found(people.officer, id_number) == {r.number}
    assert numbers_found(people.officer, id_number.lower()) == {r.number}
    assert numbers_found(people.officer, id_number[:17]) == set()
    assert numbers_found(people.officer, id_number[-8:]) == set()
    # Never beyond what the user may see.
    assert numbers_found(people.other_mediator, id_number) == set()


def test_a_search_matching_nothing_says_so_on_the_page(people, story):
    story.submitted()
    html = login(people.officer).get("/referrals/", {"search": "999999"}).content.decode()
    assert "没有符合条件的案件" in html and 'data-total="0"' in html


# --- Sorts, pages and the total -----------------------------------------------------------------


def walk(user, query: str) -> list[int]:
    """Every id, following ``next`` two rows at a time; also checks ``previous`` leads back."""
    client = api(user)
    url = f"/api/referrals/?{query}&page_size=2"
    pages: list[list[int]] = []
    body = None
    while url:
        body = client.get(url).json()
        pages.append([r["id"] for r in body["results"]])
        url = body["next"]
        assert len(pages) < 50
    back = [pages[-1]]
    url = body["previous"]
    while url:
        body = client.get(url).json()
        back.insert(0, [r["id"] for r in body["results"]])
        url = body["previous"]
    assert back == pages, "previous pages differ from the ones walked forward"
    return [pk for page in pages for pk in page]


@pytest.fixture
def seven(story):
    """Seven referrals with deadlines and received dates that tie, and two without a deadline."""
    rows = [story.submitted() for _ in range(7)]
    today = timezone.localdate()
    soon = timezone.now() + datetime.timedelta(days=3)
    later = timezone.now() + datetime.timedelta(days=9)
    plan = [  # (due_at, received days ago)
        (later, 1),
        (soon, 5),
        (None, 3),
        (soon, 1),
        (later, 5),
        (None, 2),
        (soon, 3),
    ]
    for r, (due, days) in zip(rows, plan, strict=True):
        clock = {"due_at": due} if due else {"due_at": None, "due_soon_at": None, "due_on": None, "deadline_kind": ""}
        Referral.objects.filter(pk=r.pk).update(received_on=today - datetime.timedelta(days=days), **clock)
    return Referral.objects.filter(pk__in=[r.pk for r in rows])


def test_deadline_soonest_first_ties_by_id_none_last(people, seven):
    never = timezone.now() + datetime.timedelta(days=1000)
    expected = [r.pk for r in sorted(seven, key=lambda r: (r.due_at or never, r.pk))]
    assert walk(people.officer, "sort=deadline") == expected
    first = expected[:3]
    assert len({seven.get(pk=pk).due_at for pk in first}) == 1, "the three due soonest tie"


def test_received_newest_and_oldest_with_ties(people, seven):
    newest = [r.pk for r in sorted(seven, key=lambda r: (r.received_on, r.pk), reverse=True)]
    assert walk(people.officer, "sort=received_newest") == newest
    assert walk(people.officer, "sort=received_oldest") == newest[::-1]


def test_township_order_groups_by_region_code(people, story):
    here = [story.submitted() for _ in range(2)]
    there = [story.submitted(target=people.taicheng) for _ in range(2)]
    # 440703006 (环市) before 440781001 (台城); newest first within a township.
    expected = [here[1].pk, here[0].pk, there[1].pk, there[0].pk]
    assert walk(people.officer, "sort=township") == expected


def test_the_newest_first_pages_keep_the_old_cursors(people, story):
    import base64

    rows = [story.submitted() for _ in range(3)]
    cursor = base64.b64encode(f"p={rows[2].pk}".encode()).decode()  # Django REST framework's own form
    body = api(people.officer).get("/api/referrals/", {"cursor": cursor}).json()
    assert [r["id"] for r in body["results"]] == [rows[1].pk, rows[0].pk]
    assert walk(people.officer, "sort=recent") == [r.pk for r in reversed(rows)]


def test_the_api_counts_every_match_and_refuses_an_unknown_sort_or_cursor(people, story):
    for _ in range(3):
        story.submitted()
    story.mediating()
    body = api(people.officer).get("/api/referrals/", {"page_size": 2}).json()
    assert body["count"] == 4 and len(body["results"]) == 2
    assert api(people.officer).get("/api/referrals/", {"state": "mediating"}).json()["count"] == 1
    assert api(people.other_mediator).get("/api/referrals/").json()["count"] == 0
    bad = api(people.officer).get("/api/referrals/", {"sort": "price"})
    assert bad.status_code == 400
    assert "未知排序方式" in bad.json()["errors"]["sort"][0]
    for cursor in ("garbage", "cD1hYmM=", "cz1kZWFkbGluZSZwPTE="):  # not base64 / p=abc / another sort's
        bad = api(people.officer).get("/api/referrals/", {"cursor": cursor, "sort": "deadline"})
        assert bad.status_code == 400, cursor
        assert "翻页位置无效" in bad.json()["errors"]["cursor"][0]


def test_the_page_shows_the_total_sorts_and_pages_on(people, seven):
    client = login(people.officer)
    html = client.get("/referrals/?sort=received_oldest").content.decode()
    assert "共 7 件" in html
    assert '<option value="received_oldest" selected' in html
    ids = page_ids(client, "/referrals/?sort=received_oldest")
    assert ids == [r.pk for r in sorted(seven, key=lambda r: (r.received_on, r.pk))]
    assert "未知排序方式" in client.get("/referrals/?sort=price").content.decode()


def test_the_page_pages_by_cursor_in_the_chosen_order(people, story, monkeypatch):
    from referrals import views

    rows = [story.submitted() for _ in range(5)]
    client = login(people.officer)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    seen, url = [], "/referrals/?sort=township&state=submitted"
    while url:
        html = client.get(url).content.decode()
        seen += [int(i) for i in re.findall(r'data-referral-id="(\d+)"', html)]
        found = re.search(r'href="(/referrals/\?[^"]+)" rel="next"', html)
        url = found[1].replace("&amp;", "&") if found else None
        if url:
            assert "sort=township" in url and "state=submitted" in url
    assert seen == [r.pk for r in reversed(rows)]


# --- The township picker -------------------------------------------------------------------------


class Picker(HTMLParser):
    """The optgroups of ``select#f-region``: {county label: [(code, label)]}."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.group: str | None = None
        self.groups: dict[str, list[tuple[str, str]]] = {}
        self.option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self.inside = a.get("id") == "f-region"
        elif self.inside and tag == "optgroup":
            self.group = a["label"]
            self.groups[self.group] = []
        elif self.inside and tag == "option" and self.group:
            self.option = a["value"]

    def handle_endtag(self, tag):
        if tag == "select":
            self.inside = False
        elif tag == "optgroup":
            self.group = None

    def handle_data(self, data):
        if self.option is not None:
            self.groups[self.group].append((self.option, data))
            self.option = None


def picker(user) -> dict[str, list[tuple[str, str]]]:
    p = Picker()
    p.feed(login(user).get("/referrals/").content.decode())
    return p.groups


def test_the_township_picker_is_grouped_by_county_within_what_the_user_sees(people):
    office = picker(people.officer)  # 蓬江区信访局 refers anywhere in Jiangmen
    assert len(office) == 7
    assert ("440703006", "环市街道") in office["蓬江区"]
    assert office["蓬江区"][0] == ("440703", "蓬江区（全部）")
    assert all(code.startswith("440781") for code, _label in office["台山市"])
    # A committee: its own township, under its county, and no county as a whole.
    assert picker(people.mediator) == {"蓬江区": [("440703006", "环市街道")]}
    county = picker(people.supervisor)
    assert list(county) == ["蓬江区"] and county["蓬江区"][0] == ("440703", "蓬江区（全部）")
    assert len(county["蓬江区"]) > 5
    assert len(picker(people.city)) == 7
    assert picker(people.outsider) == {}


def test_picking_a_township_filters_and_a_region_from_a_link_stays_chosen(people, story):
    here = story.submitted()
    story.submitted(target=people.taicheng)
    client = login(people.officer)
    assert page_ids(client, "/referrals/?region=440703006") == [here.pk]
    html = client.get("/referrals/?region=4407").content.decode()
    assert '<option value="4407" selected>江门市</option>' in html


# --- Chips --------------------------------------------------------------------------------------


def chips(html: str) -> dict[str, dict[str, list[str]]]:
    """{chip label: the query its link leaves}."""
    found = re.findall(r'<a class="chip" href="/referrals/\?([^"]*)" data-chip[^>]*><span>([^<]+)</span>', html)
    return {label: parse_qs(query.replace("&amp;", "&")) for query, label in found}


def test_each_chip_removes_its_own_filter_only(people, story):
    story.mediating()
    url = (
        "/referrals/?search=大明&state=mediating,submitted&region=440703006&due_soon=true"
        "&figure=overdue,accept_overdue&sort=deadline&cursor=abc"
    )
    html = login(people.officer).get(url).content.decode()
    found = chips(html)
    full = {
        "search": ["大明"],
        "state": ["mediating,submitted"],
        "region": ["440703006"],
        "due_soon": ["true"],
        "figure": ["overdue,accept_overdue"],
        "sort": ["deadline"],
    }
    overdue, accept_overdue = str(FIGURES["overdue"].label), str(FIGURES["accept_overdue"].label)
    assert set(found) == {
        "搜索：「大明」",
        "状态：调解中",
        "状态：待受理",
        "属地：环市街道",
        "即将到期",
        f"统计口径：{overdue}",
        f"统计口径：{accept_overdue}",
    }
    assert found["搜索：「大明」"] == {k: v for k, v in full.items() if k != "search"}
    assert found["状态：调解中"] == {**full, "state": ["submitted"]}
    assert found["属地：环市街道"] == {k: v for k, v in full.items() if k != "region"}
    assert found["即将到期"] == {k: v for k, v in full.items() if k != "due_soon"}
    assert found[f"统计口径：{overdue}"] == {**full, "figure": ["accept_overdue"]}
    # No chip for the sort; the page position is dropped by every chip.
    assert all("cursor" not in q for q in found.values())


def test_a_figure_from_the_dashboard_is_a_chip_with_its_label_and_kept_by_the_form(people, story):
    story.mediating()
    html = login(people.supervisor).get("/referrals/?figure=mediate_overdue").content.decode()
    label = str(FIGURES["mediate_overdue"].label)
    assert chips(html) == {f"统计口径：{label}": {}}
    assert '<input type="hidden" name="figure" value="mediate_overdue">' in html
    assert "mediate_overdue</a>" not in html


def test_the_due_soon_box_filters(people, seven):
    client = login(people.officer)
    now = timezone.now()
    Referral.objects.filter(pk__in=seven.values("pk")).update(due_soon_at=now - datetime.timedelta(days=1))
    due_soon = sorted(r.pk for r in seven if r.due_at is not None)
    html = client.get("/referrals/?due_soon=true").content.decode()
    assert 'name="due_soon" value="true" checked' in html
    assert sorted(int(i) for i in re.findall(r'data-referral-id="(\d+)"', html)) == due_soon


# --- Saved filters -------------------------------------------------------------------------------


def save(client, name: str, query: str):
    return client.post("/referrals/filters/", {"name": name, "query": query})


def test_a_filter_is_saved_listed_as_a_link_and_opens_the_list_as_it_was(people, story):
    story.mediating()
    client = login(people.officer)
    response = save(client, "  本周 调解中 ", "state=mediating&sort=deadline&cursor=abc&fragment=1&before=3")
    assert response.status_code == 302
    saved = SavedFilter.objects.get(user=people.officer)
    assert (saved.name, saved.query) == ("本周 调解中", "state=mediating&sort=deadline")
    assert response["Location"] == "/referrals/?state=mediating&sort=deadline"
    html = client.get("/referrals/").content.decode()
    assert '<a class="chip saved" href="/referrals/?state=mediating&amp;sort=deadline">本周 调解中</a>' in html
    assert "本周 调解中" in client.get("/referrals/filters/").content.decode()


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("", "state=mediating", "请填写筛选的名称"),
        ("名" * 41, "state=mediating", "最多 40 个字"),
        ("坏的", "state=lost", "筛选条件有误"),
        ("坏的", "sort=price", "未知排序方式"),
        ("空的", "cursor=abc", "没有任何筛选条件"),
        ("怪的", "state=mediating&drop=table", "未知的参数"),
        ("长的", "search=" + "长" * 100 + "&state=" + ",".join(["mediating"] * 80), "过长"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(people, name, query, message):
    response = save(login(people.officer), name, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SavedFilter.objects.filter(user=people.officer).exists()


def test_a_name_once_and_at_most_twenty(people):
    client = login(people.officer)
    assert save(client, "甲", "state=mediating").status_code == 302
    response = save(client, "甲", "state=closed")
    assert response.status_code == 400 and "已有名为「甲」的筛选" in response.content.decode()
    for i in range(19):
        assert save(client, f"筛选{i}", f"search=x{i}").status_code == 302
    response = save(client, "第二十一个", "state=closed")
    assert response.status_code == 400 and "最多保存 20 个筛选" in response.content.decode()
    assert SavedFilter.objects.filter(user=people.officer).count() == 20
    # The same name is another person's to use.
    assert save(login(people.reviewer), "甲", "state=closed").status_code == 302


def test_another_persons_saved_filter_is_neither_shown_nor_deleted(people):
    save(login(people.officer), "科室专用筛选", "state=mediating")
    saved = SavedFilter.objects.get(user=people.officer)
    other = login(people.reviewer)
    assert "科室专用筛选" not in other.get("/referrals/").content.decode()
    assert "科室专用筛选" not in other.get("/referrals/filters/").content.decode()
    assert other.post(f"/referrals/filters/{saved.pk}/delete/").status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    owner = login(people.officer)
    assert owner.get(f"/referrals/filters/{saved.pk}/delete/").status_code == 405
    response = owner.post(f"/referrals/filters/{saved.pk}/delete/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/referrals/"
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()
    assert owner.post(f"/referrals/filters/{saved.pk}/delete/").status_code == 404


def test_the_list_offers_to_save_only_a_filtered_list(people):
    client = login(people.officer)
    assert "保存当前筛选" not in client.get("/referrals/").content.decode()
    html = client.get("/referrals/?overdue=true&cursor=x").content.decode()
    assert "保存当前筛选" in html and '<input type="hidden" name="query" value="overdue=true">' in html


def test_cursor_links_are_urls_of_the_same_list(people, story):
    for _ in range(3):
        story.submitted()
    body = api(people.officer).get("/api/referrals/", {"page_size": 1, "sort": "deadline", "state": "submitted"})
    query = parse_qs(urlsplit(body.json()["next"]).query)
    assert query["sort"] == ["deadline"] and query["state"] == ["submitted"] and query["page_size"] == ["1"]


def test_a_total_beyond_the_limit_is_said_to_be_at_least(people, story, monkeypatch):
    from referrals import listing

    monkeypatch.setattr(listing, "COUNT_LIMIT", 2)
    for _ in range(3):
        story.submitted()
    body = api(people.officer).get("/api/referrals/").json()
    assert (body["count"], body["count_more"], len(body["results"])) == (2, True, 3)
    assert "共 2 件以上" in login(people.officer).get("/referrals/").content.decode()
    body = api(people.officer).get("/api/referrals/", {"page_size": 1, "state": "draft"}).json()
    assert (body["count"], body["count_more"]) == (0, False)


def test_saved_filters_through_the_api(people):
    client = api(people.officer)
    created = client.post("/api/saved-filters/", {"name": "超期", "query": "overdue=true&cursor=x"}, format="json")
    assert created.status_code == 201
    assert created.json()["query"] == "overdue=true" and created.json()["url"] == "/referrals/?overdue=true"
    again = client.post("/api/saved-filters/", {"name": "超期", "query": "state=closed"}, format="json")
    assert again.status_code == 400 and "已有名为「超期」的筛选" in again.json()["errors"]["name"][0]
    bad = client.post("/api/saved-filters/", {"name": "", "query": "sort=price"}, format="json")
    assert set(bad.json()["errors"]) == {"name", "query"}
    assert [f["name"] for f in client.get("/api/saved-filters/").json()] == ["超期"]
    assert api(people.reviewer).get("/api/saved-filters/").json() == []
    pk = created.json()["id"]
    assert api(people.reviewer).delete(f"/api/saved-filters/{pk}/").status_code == 404
    assert client.delete(f"/api/saved-filters/{pk}/").status_code == 204
    assert client.get("/api/saved-filters/").json() == []


def test_two_characters_find_exactly_what_containing_them_finds(people, story):
    """A two-character search (a name, the commonest search) is read from ``search_pairs``: it must
    find the same referrals as looking for the two characters in the summary and names would."""
    from referrals import intake
    from referrals.filters import search_condition
    from tests.factories import referral_input

    data = referral_input(people.huanshi, summary="土地承包纠纷，涉及100%的_面积")
    data.parties[0].name = "陈伟明"
    data.parties[1].name = "李四"
    draft = intake.create_referral(by=people.officer, origin=people.petition_office, data=data)
    for text in ("陈伟", "伟明", "李四", "土地", "纠纷", "0%", "%的", "_面"):
        assert draft.number in numbers_found(people.officer, text), text
        in_pairs = set(Referral.objects.filter(search_condition(text)))
        assert in_pairs == set(Referral.objects.filter(search_text__contains=text)), text
    # Two characters that stand apart (the end of one name and the start of the next, or the summary
    # and a name) are not found, as they are not found in the text.
    for text in ("明李", "积陈", "伟李", "_%"):
        assert draft.number not in numbers_found(people.officer, text), text
    # An edited draft is found by its new words only.
    data.parties[0].name = "黄小燕"
    intake.update_draft(draft, by=people.officer, data=data)
    assert draft.number in numbers_found(people.officer, "小燕")
    assert draft.number not in numbers_found(people.officer, "陈伟")
    # Never beyond what the user may see.
    assert draft.number not in numbers_found(people.mediator, "小燕")


@pytest.mark.postgres
def test_a_two_character_search_is_served_by_the_pairs_index(people, story):
    """At 10⁶ a two-character search without an index read every visible referral (1–3 s for a
    rare name): with sequential scans forbidden, the plan must find the referrals through the trigram
    index on ``search_pairs`` — not through a scan."""
    from django.db import connection

    from referrals.filters import search_condition

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the index is PostgreSQL's")
    story.submitted()
    # The condition alone: on a table this small the planner would rightly take the region's index.
    qs = Referral.objects.filter(search_condition("大明")).order_by()
    sql, params = qs.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "referral_search_pairs_trgm" in plan and "Seq Scan on referrals_referral" not in plan, plan
