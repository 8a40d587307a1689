"""The case dossier (卷宗): each standard item's status, and the must-items that block closing.

The petition bureau's own report names missing elements in case files as a failure to prevent, so
a concluded referral cannot be closed while a must-item is missing (DOMAIN.md §5).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _

from mediation.models import Agreement, Attachment, DossierItem, FollowUp, MediationSession, Termination
from referrals.errors import Missing
from referrals.models import Referral, State

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


def dossier(referral: Referral) -> list[Entry]:
    attachments = Counter(Attachment.objects.filter(referral=referral).values_list("kind", flat=True))
    sessions = MediationSession.objects.filter(referral=referral, round=referral.round).count()
    agreement = Agreement.objects.filter(referral=referral, round=referral.round).first()
    termination = Termination.objects.filter(referral=referral, round=referral.round).first()
    followups = FollowUp.objects.filter(referral=referral).count()
    parties = list(referral.parties.all())
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


def missing_for_close(referral: Referral) -> list[Missing]:
    """The must-items still missing from a concluded referral's dossier (nothing for a return)."""
    if referral.state not in (State.SUCCEEDED, State.FAILED):
        return []
    return [
        Missing(f"dossier:{e.item}", _("卷宗材料：%s") % e.label)
        for e in dossier(referral)
        if e.requirement == MUST and e.status == MISSING
    ]
