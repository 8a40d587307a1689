"""Documents fit to sign and file: every printable document rendered to an A4 PDF by Chromium.

Two referrals of the 环市 committee are walked through the API (one to a written agreement with a
supervision order and a follow-up visit, one to a termination); each of their documents is then
opened in the browser as the persona who prints it and saved with ``page.pdf(format="A4")``, as the
browser's print dialog would. The PDFs are read back with pypdf: the page count, the footer
「第 X 页 共 Y 页」 on each numbered page, the signature and seal block on one page, the volume's
contents (卷内目录) pointing at the page where each document begins, and the same PDF from a phone.
"""

from __future__ import annotations

import datetime
import io
import re
import unicodedata

import pytest
import requests
from pypdf import PdfReader

from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE
from tests.factories import day, today
from townships.validators import make_id_number

# Noto CJK maps some glyphs to the CJK Radicals Supplement in the PDF's text (页 → ⻚); NFKC folds
# the Kangxi radicals but not these.
RADICALS = str.maketrans(
    {
        "⺠": "民",
        "⻚": "页",
        "⻩": "黄",
        "⻔": "门",
        "⻅": "见",
        "⻓": "长",
        "⻢": "马",
        "⻋": "车",
        "⻉": "贝",
        "⻛": "风",
        "⻜": "飞",
        "⻝": "食",
        "⻥": "鱼",
        "⻦": "鸟",
        "⻨": "麦",
        "⻬": "齐",
        "⻮": "齿",
        "⻯": "龙",
        "⻄": "西",
        "⻘": "青",
        "⻆": "角",
        "⻤": "鬼",
        "⻣": "骨",
        "⻙": "韦",
        "⻊": "足",
    }
)


def plain(text: str) -> str:
    """A PDF page's text as the page reads: radicals folded, no spaces (letter-spaced titles), one dash."""
    text = unicodedata.normalize("NFKC", text).translate(RADICALS)
    return re.sub(r"[\u2010-\u2015]", "-", re.sub(r"\s+", "", text))


def pages_of(pdf: bytes) -> list[str]:
    return [plain(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def mediasize(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)


class Api:
    """One persona's API client (a token of its own), for building the cases quickly."""

    def __init__(self, server: str, username: str) -> None:
        self.server = server
        response = requests.post(
            f"{server}/api/auth/token/",
            json={"username": username, "password": PASSWORD, "name": "e2e-print"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Token {response.json()['token']}"}

    def get(self, path: str) -> dict:
        response = requests.get(self.server + path, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict) -> dict:
        response = requests.post(self.server + path, json=body, headers=self.headers, timeout=60)
        assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
        return response.json()


PETITIONER = ("区志强", make_id_number("440703", datetime.date(1980, 5, 17), 11, male=True))
RESPONDENT = ("谭嘉欣", make_id_number("440703", datetime.date(1986, 11, 2), 38, male=False))
THIRD = ("何永红", make_id_number("440703", datetime.date(1975, 1, 9), 41, male=True))


def new_referral(officer: Api, committee: int, tag: str, parties: list[tuple[str, str]]) -> int:
    body = {
        "received_on": day(),
        "petition_no": f"E2E-PRINT-{tag}",
        "category": "neighbour",
        "summary": f"{tag}：相邻两户因屋檐滴水和排水沟堵塞发生争执，多次争吵并互相推搡，邻居劝解无果。",
        "claims": "请求对方改造排水设施并赔偿损失。",
        "target": committee,
        "scope": {"ground": "civil_between_citizens", "exclusions_confirmed_absent": True},
        "parties": [
            {
                "role": "petitioner" if i == 0 else "respondent",
                "kind": "person",
                "name": name,
                "id_number": id_number,
                "phone": f"1380013{i:04d}",
                "address": f"江门市蓬江区环市街道建设路{10 + i}号",
                "consent": {"given_on": day(), "method": "written"},
            }
            for i, (name, id_number) in enumerate(parties)
        ],
    }
    rid = officer.post("/api/referrals/", body)["id"]
    officer.post(f"/api/referrals/{rid}/actions/submit/", {})
    return rid


def mediating(people: dict[str, Api], tag: str, parties: list[tuple[str, str]], lead: int, second: int) -> int:
    rid = new_referral(people["officer"], people["committee"], tag, parties)
    people["mediator"].post(
        f"/api/referrals/{rid}/actions/accept/", {"mediators": [lead, second], "rights_explained": True}
    )
    people["mediator"].post(
        f"/api/referrals/{rid}/sessions/",
        {
            "held_on": day(),
            "location": "环市街道人民调解委员会调解室",
            "participants": "双方当事人及社区网格员",
            "record": "调解员听取双方陈述，核实了排水沟走向和损失情况，向双方释明《民法典》相邻关系的规定。"
            "双方同意各让一步。",
        },
    )
    return rid


def written_agreement(terms: str, signed: datetime.date) -> dict:
    return {
        "agreement": {
            "form": "written",
            "terms": terms,
            "amount": "2000.00",
            "performance_method": "银行转账一次性支付",
            "performance_place": "环市街道人民调解委员会",
            "performance_due": (signed + datetime.timedelta(days=10)).isoformat(),
            "signed_on": signed.isoformat(),
        }
    }


def written_date(day: datetime.date) -> str:
    """A date as the documents print it: 2026年5月17日."""
    return f"{day.year}年{day.month}月{day.day}日"


TERMS = (
    "一、被申请人于协议签订之日起十日内疏通排水沟，并一次性支付申请人损失费人民币贰仟元整；"
    "二、双方就本纠纷再无其他争议。"
)
MORE = "\n{n}、双方约定第{n}项：相邻排水设施的日常维护由双方轮流负责，费用各半。"


@pytest.fixture(scope="module")
def cases(server) -> dict:
    people = {name: Api(server, name) for name in ("officer", "reviewer", "mediator", "supervisor")}
    roster = [m for m in people["mediator"].get("/api/mediators/")["results"] if m["active"]]
    lead = next((m for m in roster if m["name"] == "黄丽华"), roster[0])
    second = next(m for m in roster if m["id"] != lead["id"])
    people["committee"] = lead["committee"]["id"]

    # A written agreement, with a supervision order along the way and a follow-up visit after.
    agreed = mediating(people, "协议", [PETITIONER, RESPONDENT, THIRD], lead["id"], second["id"])
    people["supervisor"].post(
        f"/api/referrals/{agreed}/supervisions/",
        {"kind": "written_notice", "note": "请于期限内报告调解进展。", "respond_by": day()},
    )
    # The petition clock extended: the notice to the petitioner (信访事项延期办理告知书) prints too.
    people["reviewer"].post(
        f"/api/referrals/{agreed}/actions/extend_petition/",
        {"days": 30, "reason": "案情复杂，需进一步调查核实", "approved_by_name": "陈国强"},
    )
    signed = today()
    people["mediator"].post(f"/api/referrals/{agreed}/actions/succeed/", written_agreement(TERMS, signed))
    people["officer"].post(
        f"/api/referrals/{agreed}/followups/",
        {"visited_on": day(), "method": "phone", "satisfaction": "satisfied", "performance": "performed"},
    )
    # A termination.
    failed = mediating(people, "终止", [PETITIONER, RESPONDENT], lead["id"], second["id"])
    people["mediator"].post(
        f"/api/referrals/{failed}/actions/fail/",
        {"reason": "views_too_far_apart", "routes_explained": ["litigation"]},
    )
    return {
        "agreed": agreed,
        "failed": failed,
        "signed": signed,
        "mediators": [lead["name"], second["name"]],
        "people": people,
    }


def print_pdf(session, path: str) -> tuple[bytes, list[str]]:
    session.go(path)
    page = session.page
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    if page.locator("script[src*=print_pagination]").count():
        page.wait_for_function("document.documentElement.hasAttribute('data-paginated')")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    return pdf, pages_of(pdf)


# document, referral, expected pages: each fits its page(s) with the data above.
DOCUMENTS = [
    ("transfer", "agreed", 2),
    ("register", "agreed", 1),
    ("acceptance", "agreed", 1),
    ("record", "agreed", 1),
    ("agreement", "agreed", 2),
    ("service", "agreed", 1),
    ("supervision", "agreed", 1),
    ("followup", "agreed", 1),
    ("cover", "agreed", 1),
    ("contents", "agreed", 1),
    ("back_cover", "agreed", 1),
    ("dossier", "agreed", 2),
    ("termination", "failed", 1),
    ("followup", "failed", 1),
    ("petition_extension", "agreed", 1),
]
TITLES = {
    "transfer": "访调对接移交单",
    "register": "人民调解受理登记表",
    "acceptance": "人民调解受理通知书",
    "record": "人民调解笔录",
    "agreement": "人民调解协议书",
    "termination": "终止人民调解告知书",
    "service": "送达回证",
    "supervision": "督办通知书",
    "followup": "人民调解回访记录",
    "cover": "人民调解卷宗",
    "contents": "卷内目录",
    "back_cover": "备考",
    "dossier": "人民调解卷宗目录",
    "petition_extension": "信访事项延期办理告知书",
}
UNNUMBERED = {"cover", "contents", "back_cover"}


@pytest.mark.parametrize(("document", "which", "expected"), DOCUMENTS, ids=[f"{d}-{w}" for d, w, _ in DOCUMENTS])
def test_each_document_prints_on_a4_with_its_page_numbers(open_session, cases, document, which, expected):
    officer = open_session("officer")
    if document == "petition_extension":
        path = f"/referrals/{cases[which]}/petition-extension/notice/"
    else:
        path = f"/referrals/{cases[which]}/print/{document}/"
    pdf, pages = print_pdf(officer, path)
    assert mediasize(pdf) == (210, 297)
    assert len(pages) == expected, (document, len(pages), pages)
    assert TITLES[document] in pages[0]
    assert not any("返回案件" in p for p in pages), "the toolbar is not printed"
    for number, text in enumerate(pages, 1):
        footer = f"第{number}页共{len(pages)}页"
        if document in UNNUMBERED:
            assert "页共" not in text, (document, number)
        else:
            assert footer in text, (document, number, text[-80:])


def signing_page(pages: list[str], markers: list[str]) -> int:
    """The one page every marker of a signature block is on (fails if they are on several)."""
    found = {m: [i for i, p in enumerate(pages) if m in p] for m in markers}
    assert all(found.values()), {m: where for m, where in found.items() if not where}
    where = {i for hits in found.values() for i in hits[-1:]}
    assert len(where) == 1, f"signature block split over pages {sorted(where)}: {found}"
    return where.pop()


def test_the_agreement_carries_its_number_parties_amount_and_unsplit_signatures(open_session, cases):
    mediator = open_session("mediator")
    _pdf, pages = print_pdf(mediator, f"/referrals/{cases['agreed']}/print/agreement/")
    text = "".join(pages)
    signed = cases["signed"]
    assert re.search(rf"环调〔{signed.year}〕\d+号", text)
    assert "申请人(信访人):区志强,男,1980年5月17日出生" in text
    assert "被申请人:谭嘉欣,女,1986年11月2日出生" in text
    assert "人民币贰仟元整(¥2,000.00)" in text
    last = signing_page(
        pages,
        ["本协议一式三份", "按指印", "区志强", "谭嘉欣", "何永红", *cases["mediators"], "(盖章)", written_date(signed)],
    )
    assert last == len(pages) - 1


@pytest.mark.parametrize("extra", [0, 2, 4, 6, 8, 10])
def test_the_signature_block_is_never_split_whatever_the_length_of_the_terms(open_session, cases, extra):
    """Longer terms move the block down the page line by line: it moves to the next page whole."""
    people = cases["people"]
    roster = [m for m in people["mediator"].get("/api/mediators/")["results"] if m["active"]]
    rid = mediating(people, f"长度{extra}", [PETITIONER, RESPONDENT], roster[0]["id"], roster[1]["id"])
    terms = TERMS + "".join(MORE.format(n=n) for n in range(3, 3 + extra))
    signed = today()
    people["mediator"].post(f"/api/referrals/{rid}/actions/succeed/", written_agreement(terms, signed))
    mediator = open_session("mediator")
    _pdf, pages = print_pdf(mediator, f"/referrals/{rid}/print/agreement/")
    signing_page(pages, ["本协议一式三份", "按指印", "区志强", "谭嘉欣", "(盖章)", written_date(signed)])
    # The acceptance notice's seal and date stay with its last paragraph too.
    _pdf, notice = print_pdf(mediator, f"/referrals/{rid}/print/acceptance/")
    signing_page(notice, ["人民调解不收取任何费用", "(盖章)"])


def test_the_volume_numbers_its_contents_by_the_pages_it_prints(open_session, cases):
    reviewer = open_session("reviewer")
    _pdf, pages = print_pdf(reviewer, f"/referrals/{cases['agreed']}/print/volume/")
    page = reviewer.page
    total = int(page.get_attribute("html", "data-paginated"))
    assert len(pages) == total
    ranges = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('.doc-contents [data-pages-of]'))"
        ".map(c => [c.dataset.pagesOf, c.textContent]))"
    )
    assert list(ranges) == ["transfer", "register", "acceptance", "record", "agreement", "service", "supervision"] + [
        "followup"
    ]
    expected_next = 3  # the cover is page 1, the contents page 2
    for slug, cell in ranges.items():
        first, _, last = cell.partition("–")
        first, last = int(first), int(last or first)
        assert first == expected_next, (slug, cell)
        assert TITLES[slug] in pages[first - 1], (slug, first)
        expected_next = last + 1
    assert "备考" in pages[-1] and expected_next == total
    # The contents page prints the same numbers, and the cover the page count.
    assert f"{total}页(含封面" in pages[0]
    for slug, cell in ranges.items():
        assert TITLES[slug] in pages[1] and cell.replace("–", "-") in pages[1]
    # Cover, contents and back cover carry no footer; every other page its volume page number.
    for number, text in enumerate(pages, 1):
        assert (f"第{number}页共{total}页" in text) == (number not in (1, 2, total)), number
    # The standalone contents page numbers its rows the same way.
    _pdf, contents = print_pdf(reviewer, f"/referrals/{cases['agreed']}/print/contents/")
    assert len(contents) == 1
    assert (
        page.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('.doc-contents [data-pages-of]'))"
            ".map(c => [c.dataset.pagesOf, c.textContent]))"
        )
        == ranges
    )


def test_on_a_phone_the_page_reads_and_prints_the_same_a4_pdf(open_session, cases):
    path = f"/referrals/{cases['agreed']}/print/agreement/"
    _pdf, desktop = print_pdf(open_session("mediator", viewport=DESKTOP), path)
    phone = open_session("mediator", viewport=PHONE)
    phone_pdf, on_phone = print_pdf(phone, path)
    assert mediasize(phone_pdf) == (210, 297)
    assert on_phone == desktop
    page = phone.page
    assert page.locator("meta[name=viewport]").count() == 1
    button = page.locator("button[data-print]")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 200, box
    page.emulate_media(media="print")
    assert not button.is_visible()
    page.emulate_media(media="screen")
    assert button.is_visible()
    # Every document reads on the phone without scrolling sideways.
    for document in ("agreement", "register", "record", "service", "supervision", "followup", "volume"):
        phone.go(f"/referrals/{cases['agreed']}/print/{document}/")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"] + 1, document
