"""Roles → auth groups → django-guardian grants on organisations and regions.

Permissions scale with organisations, not with referrals (docs/architecture.md#core-rules): each organisation has one
group per role, the group holds object permissions on the organisation (and, for supervisors and
bureau dispatchers, on its region), and a person's membership puts them in the group. Which
referral a grant opens, and for which action, is decided in ``referrals/permissions.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from guardian.shortcuts import assign_perm

from townships.models import (
    Membership,
    Organisation,
    OrganisationGroupObjectPermission,
    OrganisationUserObjectPermission,
    Region,
    RegionGroupObjectPermission,
    RegionUserObjectPermission,
    Role,
)

Kind = Organisation.Kind

# Which roles each kind of organisation has (docs/domain.md#organisations-and-roles).
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    Kind.PETITION_OFFICE: (Role.OFFICER, Role.REVIEWER),
    Kind.MEDIATION_COMMITTEE: (Role.MEDIATOR,),
    Kind.JUSTICE_BUREAU: (Role.DISPATCHER, Role.SUPERVISOR),
    Kind.JUDICIAL_OFFICE: (Role.SUPERVISOR,),
    Kind.GOVERNANCE_CENTRE: (Role.DISPATCHER,),
}

# Permissions a role's group holds on its own organisation.
ORGANISATION_GRANTS: dict[str, tuple[str, ...]] = {
    Role.OFFICER: ("view_org_referrals", "refer_from"),
    Role.REVIEWER: ("view_org_referrals", "review_for"),
    Role.MEDIATOR: ("view_org_referrals", "handle_for"),
    Role.DISPATCHER: ("view_org_referrals", "dispatch_for"),
    Role.SUPERVISOR: ("view_org_referrals",),
}

# Permissions a role's group holds on its organisation's region, by organisation kind.
REGION_GRANTS: dict[tuple[str, str], tuple[str, ...]] = {
    (Kind.JUSTICE_BUREAU, Role.SUPERVISOR): ("supervise_region",),
    (Kind.JUDICIAL_OFFICE, Role.SUPERVISOR): ("supervise_region",),
    (Kind.JUSTICE_BUREAU, Role.DISPATCHER): ("route_region",),
}


def group_name(organisation_id: int, role: str) -> str:
    # ASCII and short: the same name is reused for the WebSocket group of the organisation role.
    return f"org{organisation_id}.{role}"


def _permission(codename: str, model: type) -> Permission:
    return Permission.objects.get(
        content_type__app_label="townships", codename=codename, content_type__model=model._meta.model_name
    )


@transaction.atomic
def sync_role_group(organisation: Organisation, role: str) -> Group:
    """Create the organisation's group for a role and give it exactly its grants (idempotent)."""
    if role not in ROLES_BY_KIND.get(organisation.kind, ()):
        raise ValueError(f"{organisation.kind} has no role {role}")
    group, _ = Group.objects.get_or_create(name=group_name(organisation.pk, role))
    wanted_org = set(ORGANISATION_GRANTS[role])
    have_org = set(
        OrganisationGroupObjectPermission.objects.filter(group=group, content_object=organisation).values_list(
            "permission__codename", flat=True
        )
    )
    for codename in wanted_org - have_org:
        assign_perm(_permission(codename, Organisation), group, organisation)
    OrganisationGroupObjectPermission.objects.filter(group=group).exclude(
        content_object=organisation, permission__codename__in=wanted_org
    ).delete()

    wanted_region = set(REGION_GRANTS.get((organisation.kind, role), ()))
    have_region = set(
        RegionGroupObjectPermission.objects.filter(group=group, content_object=organisation.region_id).values_list(
            "permission__codename", flat=True
        )
    )
    for codename in wanted_region - have_region:
        assign_perm(_permission(codename, Region), group, organisation.region)
    RegionGroupObjectPermission.objects.filter(group=group).exclude(
        content_object=organisation.region_id, permission__codename__in=wanted_region
    ).delete()
    return group


def add_member(user, organisation: Organisation, role: str) -> Membership:
    membership, _ = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    return membership


@dataclass(frozen=True)
class Grants:
    """What a user's groups (and direct grants) allow, as plain ids and codes.

    Read once per request; every scope question afterwards is answered without a query.
    """

    organisations: dict[str, frozenset[int]] = field(default_factory=dict)
    regions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def orgs(self, codename: str) -> frozenset[int]:
        return self.organisations.get(codename, frozenset())

    def region_codes(self, codename: str) -> tuple[str, ...]:
        return self.regions.get(codename, ())

    def covers(self, codename: str, region_code: str | None) -> bool:
        return bool(region_code) and any(region_code.startswith(c) for c in self.region_codes(codename))

    @property
    def empty(self) -> bool:
        return not self.organisations and not self.regions


def load_grants(user) -> Grants:
    """Read a user's object permissions on organisations and regions (two queries).

    Grants normally come through membership groups; a grant made to the user directly (by an
    administrator, for a stand-in) counts the same.
    """
    if not user.is_authenticated or not user.is_active:
        return Grants()
    orgs: dict[str, set[int]] = defaultdict(set)
    by_group = OrganisationGroupObjectPermission.objects.filter(group__user=user, content_object__active=True)
    by_user = OrganisationUserObjectPermission.objects.filter(user=user, content_object__active=True)
    fields = ("permission__codename", "content_object_id")
    for codename, org_id in by_group.values_list(*fields).union(by_user.values_list(*fields)):
        orgs[codename].add(org_id)
    regions: dict[str, set[str]] = defaultdict(set)
    fields = ("permission__codename", "content_object__code")
    by_group = RegionGroupObjectPermission.objects.filter(group__user=user)
    by_user = RegionUserObjectPermission.objects.filter(user=user)
    for codename, code in by_group.values_list(*fields).union(by_user.values_list(*fields)):
        regions[codename].add(code)
    return Grants(
        organisations={k: frozenset(v) for k, v in orgs.items()},
        regions={k: _outermost(v) for k, v in regions.items()},
    )


def _outermost(codes: set[str]) -> tuple[str, ...]:
    """Drop codes inside another granted code: 4407 already covers 440703."""
    return tuple(sorted(c for c in codes if not any(c != o and c.startswith(o) for o in codes)))


def sync_user_groups(user) -> None:
    """Make the user's organisation-role groups exactly those of their memberships."""
    wanted = {
        sync_role_group(m.organisation, m.role).pk
        for m in Membership.objects.filter(user=user).select_related("organisation")
    }
    current = set(user.groups.filter(name__startswith="org").values_list("pk", flat=True))
    if current - wanted:
        user.groups.remove(*(current - wanted))
    if wanted - current:
        user.groups.add(*(wanted - current))


# --- Rosters ---------------------------------------------------------------------------------
# Judicial offices and justice bureaus keep the mediator rosters of the committees in their region
# (docs/domain.md#organisations-and-roles); a committee's own members may read theirs.


def can_manage_roster(user, committee) -> bool:
    if user.is_superuser:
        return True
    return load_grants_cached(user).covers("supervise_region", committee.region.code)


def can_view_roster(user, committee) -> bool:
    if can_manage_roster(user, committee):
        return True
    return committee.pk in load_grants_cached(user).orgs("view_org_referrals")


def load_grants_cached(user) -> Grants:
    """The user's grants, read once per request object (the same cache referrals/permissions uses)."""
    cached = getattr(user, "_fangdiao_grants", None)
    if cached is None:
        cached = load_grants(user)
        user._fangdiao_grants = cached
    return cached


def roster_scope(user) -> tuple[str, ...] | None:
    """Region codes whose committee rosters the user manages; ``None`` means everywhere (superuser).

    The same grant as ``can_manage_roster``, as codes, so lists and imports filter in one query.
    """
    if user.is_superuser:
        return None
    return load_grants_cached(user).region_codes("supervise_region")


def may_manage_some_roster(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    scope = roster_scope(user)
    return scope is None or bool(scope)


def committees_managed_by(user):
    """Mediation committees whose rosters the user manages (one query when evaluated)."""
    from django.db.models import Q

    committees = Organisation.objects.filter(kind=Kind.MEDIATION_COMMITTEE)
    if not user.is_authenticated or not user.is_active:
        return committees.none()
    scope = roster_scope(user)
    if scope is None:
        return committees
    within = Q(pk__in=[])
    for code in scope:
        within |= Q(region__code__startswith=code)
    return committees.filter(within)


def committees_viewable_by(user):
    """Committees whose roster the user may read: those they manage and those they belong to."""
    from django.db.models import Q

    if not user.is_authenticated or not user.is_active:
        return Organisation.objects.none()
    if roster_scope(user) is None:
        return committees_managed_by(user)
    own = load_grants_cached(user).orgs("view_org_referrals")
    return Organisation.objects.filter(kind=Kind.MEDIATION_COMMITTEE).filter(
        Q(pk__in=committees_managed_by(user).values("pk")) | Q(pk__in=own)
    )


class RosterMasks:
    """How one user sees roster entries: the one rule for the roster page, its export and
    ``/api/mediators/``.

    Judicial offices and justice bureaus keep the rosters of their region (they import them and hold
    the source spreadsheets): full ID numbers and mobiles. A committee's own members call each other:
    their own roster's mobiles in full, ID numbers masked. Everyone else: both masked.
    Remembered per committee, so a page of entries asks each committee once.
    """

    def __init__(self, user) -> None:
        self.user = user
        self._member_of = load_grants_cached(user).orgs("view_org_referrals")
        self._keeper: dict[int, bool] = {}

    def keeps(self, committee) -> bool:
        if committee.pk not in self._keeper:
            self._keeper[committee.pk] = can_manage_roster(self.user, committee)
        return self._keeper[committee.pk]

    def id_number(self, mediator) -> str:
        from townships.validators import mask_id_number

        return mediator.id_number if self.keeps(mediator.committee) else mask_id_number(mediator.id_number)

    def mobile(self, mediator) -> str:
        from townships.validators import mask_phone

        full = mediator.committee_id in self._member_of or self.keeps(mediator.committee)
        return mediator.mobile if full else mask_phone(mediator.mobile)


def can_see_roster_personal_data(user, committee) -> bool:
    """Full ID numbers and mobiles of this committee's roster entries (see ``RosterMasks``)."""
    return can_manage_roster(user, committee)


def roster_search(text: str):
    """What a roster search box matches: part of a name; a mobile or an ID number only whole.

    A fragment of a number never matches: whoever sees an ID number masked could otherwise recover
    its hidden digits one at a time (search "…01", "…11", "…21", … and watch who stays listed).
    """
    from django.db.models import Q

    text = text.strip()
    return Q(name__contains=text) | Q(mobile=text) | Q(id_number=text.upper())
