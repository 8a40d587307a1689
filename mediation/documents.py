"""The printable documents (文书) of a referral: which ones it has reached, what they print, and the
numbers and words they carry — the agreement's document number (协议书文号), amounts in words
(金额大写), a party's sex and birth date read from the ID number.

Each document is an A4 page (or a few) rendered from ``templates/mediation/print_<slug>.html`` inside
``print_base.html``; the dossier's volume (卷宗) prints them in the order of ``VOLUME`` between its
cover, its table of contents (卷内目录) and its back cover. Page numbers are the browser's: CSS
``@page`` margin boxes print 「第 X 页 共 Y 页」, and ``static/js/print_pagination.js`` lays each
document out in A4-sized columns to number the table of contents (docs/printing.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation.models import (
    Agreement,
    Attachment,
    DocumentCounter,
    DossierItem,
    FollowUp,
    MediationSession,
    SupervisionOrder,
    Termination,
)
from referrals.models import Party, Referral
from townships.models import Membership, Organisation, Role, strip_township_suffix
from townships.validators import sex_from_id_number, validate_id_number

# --- Amounts -----------------------------------------------------------------------------------

CENT = Decimal("0.01")


def amount_in_words(amount: Decimal | int | str) -> str:
    """The amount in the uppercase financial numerals of cheques and contracts: 2000 → 贰仟元整,
    10.05 → 壹拾元零伍分, 1250.5 → 壹仟贰佰伍拾元伍角 (「整」 after 元; after 角 it may be left out,
    per 《正确填写票据和结算凭证的基本规定》). The numerals are ``cn2an``'s ``rmb`` mode."""
    import cn2an  # ~0.4 s to import: only where an amount is printed, not at every process start

    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError("a negative amount has no financial form")
    return cn2an.an2cn(f"{value:.2f}", "rmb")


def amount_in_figures(amount: Decimal | int | str) -> str:
    """¥2,000.00"""
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"¥{value:,.2f}"


# --- Parties -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    """What a valid resident ID number (GB 11643) says about its holder."""

    sex: str  # 男 / 女
    born: datetime.date


def person_facts(party: Party) -> PersonFacts | None:
    """Sex and birth date of a natural person from an 18-digit ID number that passes its check digit;
    None for an organisation or a number that does not (nothing is guessed). 民族 is not in the
    number: it is what the office recorded (``Party.ethnicity``), printed when known."""
    if party.kind != Party.Kind.PERSON or not party.id_number:
        return None
    try:
        number = validate_id_number(party.id_number)
    except ValidationError:
        return None
    born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return PersonFacts(sex=_("男") if sex_from_id_number(number) == "M" else _("女"), born=born)


@dataclass(frozen=True)
class PartyLine:
    party: Party
    facts: PersonFacts | None


# --- The agreement's document number -----------------------------------------------------------

COMMITTEE_SUFFIXES = ("人民调解委员会", "调解委员会", "调委会")


def committee_short_name(committee: Organisation) -> str:
    """The character a committee's document numbers begin with: 环市街道人民调解委员会 → 环.

    ``Organisation`` has no short-name field, so it is derived here, and only here: the committee's
    name without 「人民调解委员会」 and without its township suffix (街道, 镇, 乡: ``strip_township_suffix``),
    first character. 棠下镇人民调解委员会 → 棠, 台城街道人民调解委员会 → 台; an industry committee such as
    江门市医疗纠纷人民调解委员会 → 江. Two committees may share the character: the number stays unique
    per committee (its counter), as each committee's own 文号 series always was.
    """
    name = committee.name.strip()
    for suffix in COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return strip_township_suffix(name)[:1] or committee.name[:1]


def format_agreement_number(short_name: str, year: int, seq: int) -> str:
    """环调〔2026〕12号"""
    return f"{short_name}调〔{year}〕{seq}号"


def next_number(committee: Organisation, kind: str, year: int) -> int:
    """The committee's next number of ``kind`` in ``year``, inside the caller's transaction.

    One UPDATE ... SET last = last + 1: the counter row stays locked until the caller's transaction
    ends, so a concurrent step waits and then reads the incremented value (PostgreSQL, READ
    COMMITTED); SQLite runs one write transaction at a time (``transaction_mode`` IMMEDIATE). The
    first number of a year creates the row in a savepoint; if another transaction created it
    meanwhile, the unique key refuses the second row and the UPDATE is simply made again.
    """
    counter = DocumentCounter.objects.filter(committee=committee, kind=kind, year=year)
    if not counter.update(last=F("last") + 1):
        # Never below a number already given (a counter row deleted by hand must not restart at 1).
        given = Agreement.objects.filter(committee=committee, number_year=year).aggregate(m=Max("number_seq"))["m"] or 0
        try:
            with transaction.atomic():
                DocumentCounter.objects.create(committee=committee, kind=kind, year=year, last=given + 1)
            return given + 1
        except IntegrityError:
            counter.update(last=F("last") + 1)
    return counter.values_list("last", flat=True).get()


def agreement_number_fields(committee: Organisation | None, form: str, effective_on: datetime.date) -> dict:
    """The numbering fields of a new agreement (for ``Agreement.objects.create``), its number taken
    from the committee's counter of the year it takes effect. Only a written agreement is a document
    with a number; an oral one is recorded, not issued."""
    if committee is None or form != Agreement.Form.WRITTEN:
        return {}
    year = effective_on.year
    seq = next_number(committee, DocumentCounter.Kind.AGREEMENT, year)
    return {
        "committee": committee,
        "number_year": year,
        "number_seq": seq,
        "number": format_agreement_number(committee_short_name(committee), year, seq),
    }


# --- Page numbers ------------------------------------------------------------------------------


def page_counter_css() -> str:
    """The CSS ``content`` of the page footer: 「第 X 页 共 Y 页」, translated, with the page counters
    where the translation has %(page)s and %(pages)s."""
    text = _("第 %(page)s 页 共 %(pages)s 页") % {"page": "\0page\0", "pages": "\0pages\0"}
    parts = []
    for i, piece in enumerate(text.split("\0")):
        if i % 2:
            parts.append(f"counter({piece})")
        elif piece:
            literal = piece.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
            parts.append(f'"{literal}"')
    return " ".join(parts)


# --- The documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    slug: str
    title: Promise
    # Prints the parties' ID numbers, phones or addresses (masked unless the reader may see them;
    # printing them in full is entered in the read audit).
    personal: bool = False
    # Whether it is a document of the volume (卷内文书), numbered in the table of contents.
    filed: bool = True
    available: Callable[[CaseFile], bool] = lambda case: True
    # The link's text on the referral page, where it differs from the title.
    label: Promise | None = None


def _accepted(case: CaseFile) -> bool:
    return case.referral.accepted_at is not None


DOCUMENTS: dict[str, Document] = {
    d.slug: d
    for d in (
        Document(
            "transfer",
            gettext_lazy("访调对接移交单"),
            personal=True,
            available=lambda c: c.referral.submitted_at is not None,
        ),
        Document("register", gettext_lazy("人民调解受理登记表"), personal=True, available=_accepted),
        Document("acceptance", gettext_lazy("人民调解受理通知书"), available=_accepted),
        Document("record", gettext_lazy("人民调解笔录"), available=lambda c: bool(c.sessions)),
        Document(
            "agreement", gettext_lazy("人民调解协议书"), personal=True, available=lambda c: c.agreement is not None
        ),
        Document("termination", gettext_lazy("终止人民调解告知书"), available=lambda c: c.termination is not None),
        Document("service", gettext_lazy("送达回证"), personal=True, available=_accepted),
        Document("supervision", gettext_lazy("督办通知书"), available=lambda c: bool(c.supervisions)),
        Document(
            "followup",
            gettext_lazy("人民调解回访记录"),
            # Printable blank once mediation has ended, to be filled in on the visit.
            available=lambda c: bool(c.followups) or c.referral.concluded_at is not None,
        ),
        Document(
            "cover", gettext_lazy("人民调解卷宗"), filed=False, available=_accepted, label=gettext_lazy("卷宗封面")
        ),
        Document("contents", gettext_lazy("卷内目录"), filed=False, available=_accepted),
        Document("back_cover", gettext_lazy("封底"), filed=False, available=_accepted),
        Document(
            "volume",
            gettext_lazy("人民调解卷宗（全卷）"),
            personal=True,
            filed=False,
            available=_accepted,
            label=gettext_lazy("打印全卷"),
        ),
        # The checklist of the dossier's items, present or missing (not a document of the volume).
        Document("dossier", gettext_lazy("人民调解卷宗目录"), filed=False),
    )
}

# The volume's documents, in the order they are bound (between the cover and contents and the back cover).
VOLUME = (
    "transfer",
    "register",
    "acceptance",
    "record",
    "agreement",
    "termination",
    "service",
    "supervision",
    "followup",
)
# The pages whose layout depends on the whole volume's (its page count, the contents' page numbers).
VOLUME_PAGES = ("cover", "contents", "back_cover", "volume")

# Uploaded papers the contents list after the printed documents. Scans of the system's own documents
# once signed (the agreement, the termination notice) are not listed again: the signed paper is the
# printed document already counted.
SCANS_OF_PRINTED = {DossierItem.AGREEMENT, DossierItem.TERMINATION_NOTICE, DossierItem.REGISTER_FORM}


@dataclass(frozen=True)
class Signer:
    """A line of a signature table: who signs (and presses a fingerprint, 按指印) in the blanks."""

    label: str
    name: str


@dataclass(frozen=True)
class SessionRecord:
    session: MediationSession
    mediators: list
    signers: list[Signer]


@dataclass(frozen=True)
class SupervisionNotice:
    order: SupervisionOrder
    issuer: Organisation | None


@dataclass(frozen=True)
class ContentsRow:
    slug: str  # a document of the volume, or "" for uploaded papers
    label: str
    date: str
    note: str


class CaseFile:
    """What a referral's documents print: its current round's records, each read once."""

    def __init__(self, referral: Referral) -> None:
        self.referral = referral

    @cached_property
    def agreement(self) -> Agreement | None:
        return self.referral.agreements.filter(round=self.referral.round).first()

    @cached_property
    def termination(self) -> Termination | None:
        return self.referral.terminations.filter(round=self.referral.round).first()

    @cached_property
    def sessions(self) -> list[MediationSession]:
        return list(self.referral.sessions.filter(round=self.referral.round).prefetch_related("mediators"))

    @cached_property
    def followups(self) -> list[FollowUp]:
        return list(FollowUp.objects.filter(referral=self.referral).select_related("by", "organisation"))

    @cached_property
    def supervisions(self) -> list[SupervisionOrder]:
        return list(
            SupervisionOrder.objects.filter(referral=self.referral).select_related(
                "issued_by", "addressed_to", "responded_by"
            )
        )

    @cached_property
    def parties(self) -> list[Party]:
        return list(self.referral.parties.all())

    @cached_property
    def party_lines(self) -> list[PartyLine]:
        return [PartyLine(p, person_facts(p)) for p in self.parties]

    @cached_property
    def mediators(self) -> list:
        # The lead mediator (主调解员) first, as on every other list of the case's mediators.
        referral = self.referral
        return sorted(referral.mediators.all(), key=lambda m: (m.pk != referral.lead_mediator_id, m.name))

    def _party_signers(self) -> list[Signer]:
        return [Signer(p.get_role_display(), p.name) for p in self.parties]

    @cached_property
    def agreement_signers(self) -> list[Signer]:
        """Every party and every mediator of the case sign a written agreement (人民调解法 Art. 29);
        an oral one is signed by the mediators who recorded it only."""
        if self.agreement is None:
            return []
        if self.agreement.form == Agreement.Form.ORAL:
            return [Signer(_("记录人（人民调解员）"), m.name) for m in self.mediators]
        return self._party_signers() + [Signer(_("人民调解员"), m.name) for m in self.mediators]

    @cached_property
    def session_records(self) -> list[SessionRecord]:
        """Each session's record (调解笔录), signed by the parties, the session's mediators and the clerk."""
        records = []
        for session in self.sessions:
            mediators = list(session.mediators.all()) or self.mediators
            signers = self._party_signers() + [Signer(_("人民调解员"), m.name) for m in mediators]
            records.append(SessionRecord(session, mediators, [*signers, Signer(_("记录人"), "")]))
        return records

    @cached_property
    def attachments(self) -> list[Attachment]:
        return list(Attachment.objects.filter(referral=self.referral).order_by("uploaded_at", "id"))

    def available(self, slug: str) -> bool:
        return slug in DOCUMENTS and DOCUMENTS[slug].available(self)

    def title(self, slug: str) -> str:
        if slug == "agreement" and self.agreement and self.agreement.form == Agreement.Form.ORAL:
            # An oral agreement is recorded by the mediator, not signed (人民调解法 Art. 30).
            return _("口头调解协议记录")
        return str(DOCUMENTS[slug].title)

    @cached_property
    def volume(self) -> list[str]:
        """The documents of the volume this referral has, in binding order."""
        return [slug for slug in VOLUME if self.available(slug)]

    @cached_property
    def served(self) -> list[str]:
        """The documents served on every party (送达), for the proof of service."""
        served = [_("人民调解受理通知书")] if self.referral.accepted_at else []
        if self.agreement and self.agreement.form == Agreement.Form.WRITTEN:
            served.append(_("人民调解协议书") + (f"（{self.agreement.number}）" if self.agreement.number else ""))
        if self.termination:
            served.append(_("终止人民调解告知书"))
        return served

    @cached_property
    def supervision_notices(self) -> list[SupervisionNotice]:
        """Each supervision order with the organisation that issued it: the issuer's supervisor
        membership whose region covers the referral's, nearest first (orders record the person)."""
        code = self.referral.region_code
        memberships = Membership.objects.filter(
            user_id__in={o.issued_by_id for o in self.supervisions}, role=Role.SUPERVISOR
        ).select_related("organisation__region")
        covering: dict[int, list[Organisation]] = {}
        for m in memberships:
            if code.startswith(m.organisation.region.code):
                covering.setdefault(m.user_id, []).append(m.organisation)
        return [
            SupervisionNotice(
                o, max(covering.get(o.issued_by_id, []), key=lambda org: len(org.region.code), default=None)
            )
            for o in self.supervisions
        ]

    def _dates(self, slug: str) -> str:
        r, fmt = self.referral, _("Y年n月j日")

        def day(value) -> str:
            if value is None:
                return ""
            if isinstance(value, datetime.datetime):
                value = localtime(value).date()
            return date_format(value, fmt)

        def span(values: list) -> str:
            values = sorted(v for v in values if v)
            if not values:
                return ""
            return day(values[0]) if values[0] == values[-1] else f"{day(values[0])}—{day(values[-1])}"

        if slug == "transfer":
            return day(r.submitted_at)
        if slug in ("register", "acceptance"):
            return day(r.accepted_at)
        if slug == "record":
            return span([s.held_on for s in self.sessions])
        if slug == "agreement":
            return day(self.agreement.signed_on or self.agreement.effective_on)
        if slug == "termination":
            return day(self.termination.created_at)
        if slug == "supervision":
            return span([localtime(o.issued_at).date() for o in self.supervisions])
        if slug == "followup":
            return span([f.visited_on for f in self.followups])
        return ""

    @cached_property
    def contents(self) -> list[ContentsRow]:
        """The table of contents (卷内目录): the printed documents, then the uploaded papers."""
        rows = []
        for slug in self.volume:
            note = ""
            if slug == "acceptance":
                note = _("含当事人权利义务告知")
            elif slug == "agreement" and self.agreement.number:
                note = self.agreement.number
            elif slug == "record":
                note = _("%d次") % len(self.sessions)
            elif slug == "followup" and not self.followups:
                note = _("空白表，回访时填写")
            rows.append(ContentsRow(slug, self.title(slug), self._dates(slug), note))
        counts: dict[str, int] = {}
        for a in self.attachments:
            if a.kind not in SCANS_OF_PRINTED:
                counts[a.kind] = counts.get(a.kind, 0) + 1
        for kind in DossierItem.values:
            if counts.get(kind):
                note = _("上传%d份，装订后填写页号") % counts[kind]
                rows.append(ContentsRow("", str(DossierItem(kind).label), "", note))
        return rows

    @property
    def uploaded_rows(self) -> int:
        return sum(1 for row in self.contents if not row.slug)


def links(referral: Referral) -> list[tuple[str, str, str]]:
    """(slug, label, url) of the documents the referral has reached, for its page's dossier panel."""
    case = CaseFile(referral)
    shown = [*VOLUME, "volume", "cover", "contents", "back_cover", "dossier"]
    return [
        (slug, str(DOCUMENTS[slug].label or case.title(slug)), reverse("mediation:print", args=[referral.pk, slug]))
        for slug in shown
        if case.available(slug)
    ]
