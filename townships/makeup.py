"""The make-up a mediation committee must have (人民调解法 Art. 9), checked for the roster keepers.

"人民调解委员会由委员三至九人组成，设主任一人，必要时，可以设副主任若干人。人民调解委员会应当有妇女成员". The
committee's members are its 主任, 副主任 and 委员 on the active roster; its other 调解员 mediate but
are not members. A roster that falls short is still accepted (a committee being re-formed must be
able to record where it stands): the roster page and an applied import show warnings instead. The
members' five-year term (Art. 9 ¶2) is not on the roster, so it is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from townships.models import Mediator, Organisation

MEMBER_POSITIONS = (Mediator.Position.CHAIR, Mediator.Position.VICE_CHAIR, Mediator.Position.MEMBER)
MIN_MEMBERS, MAX_MEMBERS = 3, 9


@dataclass(frozen=True)
class MakeupWarning:
    committee_id: int
    committee: str
    problems: tuple[str, ...]


def makeup_warnings(committees: QuerySet[Organisation]) -> list[MakeupWarning]:
    """The committees (mediation committees among ``committees``) whose active roster falls short, in
    order, each with what it lacks. Two queries, whatever the number of committees."""
    found = {
        row["committee_id"]: row
        for row in Mediator.objects.filter(committee__in=committees, active=True, position__in=MEMBER_POSITIONS)
        .values("committee_id")
        .annotate(
            members=Count("pk"),
            chairs=Count("pk", filter=Q(position=Mediator.Position.CHAIR)),
            women=Count("pk", filter=Q(sex=Mediator.Sex.FEMALE)),
        )
        .order_by()
    }
    out = []
    for committee in committees.filter(kind=Organisation.Kind.MEDIATION_COMMITTEE).order_by("region__code", "name"):
        row = found.get(committee.pk, {"members": 0, "chairs": 0, "women": 0})
        problems = []
        if not MIN_MEMBERS <= row["members"] <= MAX_MEMBERS:
            problems.append(
                _("委员（含主任、副主任）%(n)d 人，应为 %(min)d 至 %(max)d 人")
                % {"n": row["members"], "min": MIN_MEMBERS, "max": MAX_MEMBERS}
            )
        if row["chairs"] != 1:
            problems.append(_("主任 %d 人，应设主任一人") % row["chairs"])
        if row["members"] and not row["women"]:
            problems.append(_("委员中没有妇女成员"))
        if problems:
            out.append(MakeupWarning(committee.pk, committee.name, tuple(problems)))
    return out
