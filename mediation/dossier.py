"""The case dossier (卷宗): each standard item's status, and the must-items that block closing.

The petition bureau's own report names missing elements in case files as a failure to prevent, so
a concluded referral cannot be closed while a must-item is missing (docs/domain.md#required-elements). What the
committee still has to add after concluding — those must-items and the papers a reviewer asked for
(退回补正, ``CorrectionRequest``) — is its task on the referral page and its home page (``Pending``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext as _

from mediation.models import (
    Agreement,
    Attachment,
    CorrectionRequest,
    DossierItem,
    FollowUp,
    MediationSession,
    Termination,
)
from referrals.errors import Missing
from referrals.models import Party, Referral, State

PRESENT = "present"
MISSING = "missing"
NOT_NEEDED = "not_needed"

MUST = "must"
AS_NEEDED = "as_needed"


@dataclass(frozen=True)
class Entry:
    item: str
    label: str
    requirement: str
    status: str
    source: str


@dataclass
class Facts:
    """What the dossier of one referral is judged from (its current round's records)."""

    attachments: Counter
    sessions: int
    agreement: Agreement | None
    termination: Termination | None
    followups: int
    parties: list


def facts_of(referral: Referral) -> Facts:
    return Facts(
        attachments=Counter(Attachment.objects.filter(referral=referral).values_list("kind", flat=True)),
        sessions=MediationSession.objects.filter(referral=referral, round=referral.round).count(),
        agreement=Agreement.objects.filter(referral=referral, round=referral.round).first(),
        termination=Termination.objects.filter(referral=referral, round=referral.round).first(),
        followups=FollowUp.objects.filter(referral=referral).count(),
        parties=list(referral.parties.all()),
    )


def facts_for(referrals: list[Referral]) -> dict[int, Facts]:
    """The facts of many referrals' dossiers in a fixed number of queries (for lists)."""
    ids = [r.pk for r in referrals]
    rounds = {r.pk: r.round for r in referrals}
    facts = {pk: Facts(Counter(), 0, None, None, 0, []) for pk in ids}
    for pk, kind, n in (
        Attachment.objects.filter(referral_id__in=ids)
        .values_list("referral_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        facts[pk].attachments[kind] += n
    for pk, round_, n in (
        MediationSession.objects.filter(referral_id__in=ids)
        .values_list("referral_id", "round")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if round_ == rounds[pk]:
            facts[pk].sessions += n
    for agreement in Agreement.objects.filter(referral_id__in=ids):
        if agreement.round == rounds[agreement.referral_id]:
            facts[agreement.referral_id].agreement = agreement
    for termination in Termination.objects.filter(referral_id__in=ids):
        if termination.round == rounds[termination.referral_id]:
            facts[termination.referral_id].termination = termination
    followups = FollowUp.objects.filter(referral_id__in=ids).values_list("referral_id").annotate(n=Count("id"))
    for pk, n in followups.order_by():
        facts[pk].followups = n
    for party in Party.objects.filter(referral_id__in=ids).order_by("referral_id", "id"):
        facts[party.referral_id].parties.append(party)
    return facts


def dossier(referral: Referral, facts: Facts | None = None) -> list[Entry]:
    f = facts or facts_of(referral)
    attachments, sessions, agreement, termination = f.attachments, f.sessions, f.agreement, f.termination
    followups, parties = f.followups, f.parties
    succeeded = referral.state == State.SUCCEEDED or (referral.state == State.CLOSED and agreement is not None)
    failed = referral.state == State.FAILED or (referral.state == State.CLOSED and termination is not None)
    entries: list[Entry] = []

    def add(item: str, requirement: str, status: str, source: str = "") -> None:
        entries.append(Entry(item, str(DossierItem(item).label), requirement, status, source))

    def uploaded(item: str) -> str:
        return _("已上传%d份") % attachments[item] if attachments[item] else ""

    consent_recorded = bool(parties) and all(p.has_consent for p in parties)
    add(
        DossierItem.CONSENT,
        MUST,
        PRESENT if consent_recorded or attachments[DossierItem.CONSENT] else MISSING,
        uploaded(DossierItem.CONSENT) or (_("系统已登记各方同意") if consent_recorded else ""),
    )
    add(
        DossierItem.REGISTER_FORM,
        MUST,
        PRESENT if referral.accepted_at else MISSING,
        _("受理时由系统生成") if referral.accepted_at else "",
    )
    add(
        DossierItem.RIGHTS_NOTICE,
        MUST,
        PRESENT if referral.rights_explained else MISSING,
        _("受理时已确认告知") if referral.rights_explained else "",
    )
    add(
        DossierItem.IDENTITY_PROOF,
        MUST,
        PRESENT if attachments[DossierItem.IDENTITY_PROOF] else MISSING,
        uploaded(DossierItem.IDENTITY_PROOF),
    )
    if failed and termination and termination.no_session_note and not sessions:
        add(DossierItem.MEDIATION_RECORD, MUST, NOT_NEEDED, _("未开展调解：%s") % termination.no_session_note[:40])
    else:
        add(
            DossierItem.MEDIATION_RECORD,
            MUST,
            PRESENT if sessions else MISSING,
            _("本轮%d份") % sessions if sessions else "",
        )
    if succeeded:
        signed_scan = attachments[DossierItem.AGREEMENT]
        if agreement and agreement.form == Agreement.Form.ORAL:
            add(DossierItem.AGREEMENT, MUST, PRESENT, _("口头协议已记录"))
        else:
            add(
                DossierItem.AGREEMENT,
                MUST,
                PRESENT if agreement and signed_scan else MISSING,
                uploaded(DossierItem.AGREEMENT) or _("须上传各方签名、加盖印章的书面协议"),
            )
    else:
        add(DossierItem.AGREEMENT, MUST, NOT_NEEDED)
    if failed:
        add(
            DossierItem.TERMINATION_NOTICE,
            MUST,
            PRESENT if termination else MISSING,
            _("终止时由系统生成") if termination else "",
        )
    add(DossierItem.BACK_COVER, MUST, PRESENT, _("打印卷宗时生成"))
    for item in (
        DossierItem.POWER_OF_ATTORNEY,
        DossierItem.INVESTIGATION_RECORD,
        DossierItem.EVIDENCE,
        DossierItem.PERFORMANCE_PROOF,
        DossierItem.DOSSIER_NOTE,
        DossierItem.OTHER,
    ):
        add(item, AS_NEEDED, PRESENT if attachments[item] else NOT_NEEDED, uploaded(item))
    add(
        DossierItem.FOLLOWUP_RECORD,
        AS_NEEDED,
        PRESENT if followups or attachments[DossierItem.FOLLOWUP_RECORD] else NOT_NEEDED,
        _("%d次回访") % followups if followups else uploaded(DossierItem.FOLLOWUP_RECORD),
    )
    confirmed = agreement is not None and agreement.confirmation_applied_on is not None
    add(
        DossierItem.JUDICIAL_CONFIRMATION,
        AS_NEEDED,
        PRESENT if confirmed or attachments[DossierItem.JUDICIAL_CONFIRMATION] else NOT_NEEDED,
        uploaded(DossierItem.JUDICIAL_CONFIRMATION),
    )
    return entries


def missing_entries(referral: Referral, facts: Facts | None = None) -> list[Entry]:
    """The must-items still missing from a concluded referral's dossier (nothing for a return)."""
    if referral.state not in (State.SUCCEEDED, State.FAILED):
        return []
    return [e for e in dossier(referral, facts) if e.requirement == MUST and e.status == MISSING]


def missing_for_close(referral: Referral) -> list[Missing]:
    """What 审核办结 still lacks from the dossier, each as a required element."""
    return [Missing(f"dossier:{e.item}", _("卷宗材料：%s") % e.label) for e in missing_entries(referral)]


# What a reviewer may ask the committee for (退回补正): every paper of the dossier but those the
# system itself makes (the acceptance register form, the back cover).
REQUESTABLE = tuple(i for i in DossierItem.values if i not in (DossierItem.REGISTER_FORM, DossierItem.BACK_COVER))


def label(item: str) -> str:
    return str(DossierItem(item).label)


@dataclass(frozen=True)
class Pending:
    """What the committee still has to add to a concluded referral's dossier: the must-items it lacks
    and what the reviewer asked for and has not received yet (``CorrectionRequest``), in that order of
    the dossier list, once each."""

    referral: Referral
    missing: tuple[str, ...]  # dossier item codes of missing must-items
    request: CorrectionRequest | None  # the open 退回补正 of the current round

    @property
    def items(self) -> list[str]:
        asked = self.request.outstanding if self.request else []
        wanted = set(self.missing) | set(asked)
        return [i for i in DossierItem.values if i in wanted]

    @property
    def labels(self) -> list[str]:
        return [label(i) for i in self.items]

    def __bool__(self) -> bool:
        return bool(self.items)


def open_request(referral: Referral) -> CorrectionRequest | None:
    """The 退回补正 of the referral's current round still waiting for papers, while it awaits review."""
    if referral.state not in (State.SUCCEEDED, State.FAILED):
        return None
    return (
        CorrectionRequest.objects.filter(referral=referral, round=referral.round, answered_at__isnull=True)
        .order_by("requested_at")
        .first()
    )


def pending(referral: Referral) -> Pending:
    return Pending(referral, tuple(e.item for e in missing_entries(referral)), open_request(referral))


def pending_for(referrals: list[Referral]) -> list[Pending]:
    """``pending`` of many concluded referrals, in a fixed number of queries; only those lacking something."""
    concluded = [r for r in referrals if r.state in (State.SUCCEEDED, State.FAILED)]
    facts = facts_for(concluded)
    requests: dict[int, CorrectionRequest] = {}
    for request in CorrectionRequest.objects.filter(
        referral_id__in=[r.pk for r in concluded], answered_at__isnull=True
    ).order_by("-requested_at"):
        requests[request.referral_id] = request  # the earliest open one wins
    out = []
    for r in concluded:
        request = requests.get(r.pk)
        if request is not None and request.round != r.round:
            request = None
        found = Pending(r, tuple(e.item for e in missing_entries(r, facts[r.pk])), request)
        if found:
            out.append(found)
    return out
