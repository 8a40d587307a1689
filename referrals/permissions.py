"""Who may see which referral and do what with it — the one access module.

Views, the API, templates (buttons), consumers and notification routing all ask here; nothing else
re-states these rules. Grants come from organisation membership (``townships.roles``): a person
acts for an organisation in a role, and supervisors for a region.

- The origin office sees its referrals, drafts included; officers register, edit, submit and
  redirect; reviewers close and reopen.
- The current target sees what was referred to it: mediators accept, return and conclude;
  dispatchers of a bureau or centre route onward (or return).
- Supervisors (justice bureau, judicial office) read everything past draft in their region and
  issue supervision orders; a bureau's dispatchers may re-route a referral returned twice.
- Past handlers keep read-only access; a referral may also be shared ad hoc (guardian grant).
- The petition office above that keeps a 复查 or 复核 of a closed referral reads it from then on
  (``referrals/appeals.py``).

Answers: not visible → 404; visible but not this person's to do → 403 (``Forbidden``); theirs but
not possible in the current state → 409 (``NotAvailable``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from referrals.errors import Forbidden, NotAvailable
from referrals.models import (
    Appeal,
    Handling,
    Referral,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
    State,
)
from referrals.registry import STEP, registry
from townships import regions
from townships.models import Organisation, RegionGroupObjectPermission, Role
from townships.roles import Grants, load_grants_cached

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.auth.models import User as AuthUser

    from core.models import AccessLog

# Whoever asks: a person, or a request nobody signed in to (every answer for that one is "no").
AnyUser: TypeAlias = "AuthUser | AnonymousUser"

User = get_user_model()

ALLOWED = "allowed"
FORBIDDEN = "forbidden"
UNAVAILABLE = "unavailable"


def grants_of(user: AnyUser) -> Grants:
    """The user's grants, read once and kept on the user object for the rest of the request."""
    return load_grants_cached(user)


def forget_grants(user: AnyUser) -> None:
    user.__dict__.pop("_fangdiao_grants", None)


# --- Visibility ------------------------------------------------------------------------------


def referrals_visible_to(user: AnyUser) -> QuerySet[Referral]:
    """Every referral the user may open, as one filtered query (no per-referral grant rows)."""
    if not user.is_authenticated or not user.is_active:
        return Referral.objects.none()
    if user.is_superuser:
        return Referral.objects.all()
    g = grants_of(user)
    member_of = g.orgs("view_org_referrals")
    areas = set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))
    # A draft is the petition office's own working paper until it is submitted.
    past_draft_or_own = Q(origin_id__in=member_of) | ~Q(state=State.DRAFT)
    if not areas:
        return Referral.objects.filter(past_draft_or_own, pk__in=_ids_of_organisations(user, member_of))
    past_draft = Q(target_id__in=member_of) | regions.within(sorted(areas))
    if member_of:
        past_draft |= Q(pk__in=Handling.objects.filter(organisation_id__in=member_of).values("referral_id"))
        past_draft |= Q(pk__in=Appeal.objects.filter(office_id__in=member_of).values("referral_id"))
    past_draft |= Q(pk__in=ReferralUserObjectPermission.objects.filter(user=user).values("content_object_id"))
    past_draft |= Q(pk__in=ReferralGroupObjectPermission.objects.filter(group__user=user).values("content_object_id"))
    return Referral.objects.filter(Q(origin_id__in=member_of) | (~Q(state=State.DRAFT) & past_draft))


class _PkRow(TypedDict):
    pk: int


def _ids_of_organisations(user: AuthUser, member_of: frozenset[int]) -> QuerySet[Referral, _PkRow]:
    """The ids behind the same rule for someone without a regional grant, as one UNION ALL.

    A committee or an office sees a small share of all referrals; each branch of the union is read
    from its own index (origin, target, handlings, appeals, shares), where an OR of them would make
    the database read every referral to find that share. No branch looks at the referral's state:
    the caller leaves out the drafts of other offices on the rows the union finds (a branch that
    joined the referral to do it made PostgreSQL walk some 300,000 referrals by state at 10⁶). ALL,
    because a repeated id is harmless to ``IN``, and without the de-duplication PostgreSQL looks the
    ids up in the primary key instead of hashing them and reading the whole table against them: a
    committee's list count at 10⁶ 520 → 47 ms (BENCHMARKS.md, lists).
    """
    return (
        Referral.objects.filter(origin_id__in=member_of)
        .order_by()
        .values("pk")
        .union(
            Referral.objects.filter(target_id__in=member_of).order_by().values("pk"),
            *_seen_otherwise(user, member_of),
            all=True,
        )
    )


def _seen_otherwise(user: AuthUser, member_of: frozenset[int]) -> tuple[QuerySet[Any, int], ...]:
    """The ids of what someone sees other than as registered by or referred to their organisations
    or in their regions: each from its own index, for a ``UNION ALL``."""
    return (
        # A referral its office took back (撤回) is a draft again: the caller's draft rule hides it.
        Handling.objects.filter(organisation_id__in=member_of).order_by().values_list("referral_id", flat=True),
        # The office above that keeps a 复查 or 复核 of a closed referral (referrals/appeals.py).
        Appeal.objects.filter(office_id__in=member_of).order_by().values_list("referral_id", flat=True),
        ReferralUserObjectPermission.objects.filter(user=user).order_by().values_list("content_object_id", flat=True),
        ReferralGroupObjectPermission.objects.filter(group__user=user)
        .order_by()
        .values_list("content_object_id", flat=True),
    )


def typed_number(text: str) -> str:
    """A referral number as someone typed it, as stored: spaces dropped, letters upper-case."""
    return "".join((text or "").split()).upper()


def visible_by_number(user: AnyUser, text: str) -> Referral | None:
    """The referral of this number if the user may see it, else None: a number the user may not see
    reads exactly as one that does not exist."""
    number = typed_number(text)
    return referrals_visible_to(user).filter(number=number).first() if number else None


def referrals_visible_in_area(user: AnyUser, codes: tuple[str, ...]) -> QuerySet[Referral]:
    """Visible referrals within the regions ``codes``, for statistics over an area.

    Where the user supervises every one of those regions, visibility there is simply "past draft,
    or a draft of my own office": the same set as ``referrals_visible_to`` restricted to the area,
    stated so that the database can read it from the region index alone. Otherwise the general
    rule applies. The area is a range on the indexed ``region_code`` ([code, code + "A") holds
    exactly the codes under ``code``: digits sort before letters).
    """
    within = regions.within(codes) if codes else Q()
    if supervises_area(user, codes):
        if user.is_superuser:
            return Referral.objects.filter(within)
        mine = grants_of(user).orgs("view_org_referrals")
        return Referral.objects.filter(within).filter(~Q(state=State.DRAFT) | Q(origin_id__in=mine))
    return referrals_visible_to(user).filter(within) if codes else referrals_visible_to(user)


def visible_of_own_organisation(
    user: AnyUser, *, origin: int | None = None, target: int | None = None
) -> QuerySet[Referral] | None:
    """Visible referrals registered by (``origin``) or referred to (``target``) one of the user's own
    organisations, for an organisation's figures and queues; None when it is not one of theirs.

    The union of ``referrals_visible_to`` holds every referral an organisation registered and every
    one referred to it, so within either the rule is simply "past draft, or a draft of my own
    office": stated so, the database reads the organisation's own index instead of looking up each
    of its referrals by id through the union (a petition office's home page at 10⁶: 82,000 of them).
    """
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return None
    member_of = grants_of(user).orgs("view_org_referrals")
    if origin is not None and origin in member_of:
        return Referral.objects.filter(origin_id=origin)
    if target is not None and target in member_of:
        return Referral.objects.filter(target_id=target).filter(~Q(state=State.DRAFT) | Q(origin_id__in=member_of))
    return None


# Beyond this many referrals seen beyond one's own (or outside one's regions), the lists and figures
# go back to the general rule (a longer literal list costs more to send and plan than it saves).
FEW_OTHERS = 5000
DRAFT = Q(state=State.DRAFT)


@dataclass(frozen=True)
class ReaderView:
    """``referrals_visible_to`` of one person, stated so that the database reads it from indexes.

    The general rule's ``IN (union)`` makes PostgreSQL look each referral up by id (a petition
    office's 82,000 at 10⁶: its summary 4–6 s, its "mediating and overdue" list 1.2–1.6 s), and
    its OR of subqueries keeps a county's list from its region index (that list: 0.57 s). Read
    first, in one query, are the few referrals that the person's organisations and regions do not
    already account for (``others``); then visibility is an OR of indexed conditions:

    - someone without a regional grant (an office's, a committee's people) sees what their
      organisations registered (drafts included) or were referred, and ``others`` seen through a
      past handling, an appeal or a share;
    - a supervisor or dispatcher sees past draft within their ``areas`` (and their own office's
      drafts), and ``others``: all they see outside those areas, in whatever way.
    """

    member_of: frozenset[int]
    areas: tuple[str, ...]
    others: tuple[int, ...]
    referred_to: bool  # whether anything is referred to one of their organisations (without areas)

    @property
    def registered_only(self) -> bool:
        """Whether they see exactly what their organisations registered (a petition office, as a
        rule): the running totals, kept per registering office, then answer their figures."""
        return not self.areas and not self.others and not self.referred_to

    def referred_only(self) -> bool:
        """Whether they see exactly what was referred to their organisations, past draft (a
        committee's people, as a rule): their organisations registered nothing. One query."""
        if self.areas or self.others or not self.referred_to:
            return False
        return not Referral.objects.filter(origin_id__in=self.member_of).exists()

    def referrals(self, *, referred_only: bool = False) -> QuerySet[Referral]:
        """What they see; ``referred_only``: known to be ``referred_only()``, stated as such (one
        index: a median's read then keeps to the organisation's referrals)."""
        mine = Q(origin_id__in=self.member_of)
        if self.registered_only:  # one index, which also holds the state and the clock
            return Referral.objects.filter(mine)
        if referred_only:
            return Referral.objects.filter(Q(target_id__in=self.member_of) & ~DRAFT)
        if self.areas:  # without others, the region index alone, which holds the state and the clock
            return Referral.objects.filter((regions.within(self.areas) | Q(pk__in=self.others)) & (mine | ~DRAFT))
        return Referral.objects.filter(mine | (~DRAFT & (Q(target_id__in=self.member_of) | Q(pk__in=self.others))))


def reader_view(user: AnyUser) -> ReaderView | None:
    """The ``ReaderView`` of this person (one or two queries); None for a superuser (who sees
    everything) or with more than ``FEW_OTHERS`` others (the general rule then serves)."""
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return None
    g = grants_of(user)
    member_of = g.orgs("view_org_referrals")
    areas = tuple(sorted(set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))))
    registered = Referral.objects.filter(origin_id__in=member_of).order_by().values_list("pk", flat=True)
    referred = Referral.objects.filter(target_id__in=member_of).order_by().values_list("pk", flat=True)
    first, *rest = _seen_otherwise(user, member_of)
    elsewhere = first.union(*rest, all=True)
    found: QuerySet[Any, int]
    if areas:
        # What they see outside their regions: few (a bureau's own referrals are in its region).
        seen = registered.union(referred, first, *rest, all=True)
        found = (
            Referral.objects.filter(pk__in=seen).exclude(regions.within(areas)).order_by().values_list("pk", flat=True)
        )
    else:
        # Two EXCEPTs, each read from its own index alone (one with an OR read the table: 0.2 s).
        found = elsewhere.difference(registered, referred)
    others = list(found[: FEW_OTHERS + 1])
    if len(others) > FEW_OTHERS:
        return None
    return ReaderView(
        member_of=member_of,
        areas=areas,
        others=tuple(sorted(others)),
        referred_to=False if areas else referred.exists(),
    )


def referrals_visible_in_bulk(user: AnyUser) -> QuerySet[Referral]:
    """``referrals_visible_to``, stated for reading many of them (the list, the ledger) by the
    ``ReaderView``, so that a filter on the state or the clock narrows them through the
    organisation's or the region's own index. To open one referral by id the general rule is as
    quick and costs no query of its own."""
    view = reader_view(user)
    return view.referrals() if view is not None else referrals_visible_to(user)


def supervises_area(user: AnyUser, codes: tuple[str, ...]) -> bool:
    """Whether the user sees every referral past draft in each of these regions (a superuser:
    everywhere)."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    g = grants_of(user)
    supervised = set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))
    return bool(codes) and all(regions.contained_in_any(code, supervised) for code in codes)


def areas_of(user: AnyUser) -> tuple[str, ...] | None:
    """The regions where the referrals this user sees are handled, as codes (None: everywhere, a
    superuser): what the list's township picker offers. A petition office refers anywhere in its
    city (``referral_targets``); a committee or bureau is referred to in its own region; supervisors
    and dispatchers see their regions. One query (the user's organisations)."""
    if user.is_superuser:
        return None
    g = grants_of(user)
    codes = set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))
    member_of = g.orgs("view_org_referrals") | g.orgs("refer_from")
    for kind, code in Organisation.objects.filter(pk__in=member_of).values_list("kind", "region__code"):
        if kind == Organisation.Kind.PETITION_OFFICE:
            codes.add(regions.city_of(code) or code)
        else:  # a village committee's referrals are picked by its township
            codes.add(regions.township_of(code) or code)
    return tuple(sorted(c for c in codes if not any(c != o and regions.contains(o, c) for o in codes)))


def get_referral_for_user(user: AnyUser, pk: int, *, queryset: QuerySet[Referral] | None = None) -> Referral:
    """The referral if the user may see it; 404 otherwise (never say that it exists)."""
    qs = queryset if queryset is not None else referrals_visible_to(user)
    try:
        return qs.get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404("referral not visible") from None


def can_see_personal_data(user: AnyUser, referral: Referral) -> bool:
    """Full ID numbers, phones and addresses: the origin office and the current handler only."""
    if not user.is_authenticated:
        return False
    member_of = grants_of(user).orgs("view_org_referrals")
    if referral.origin_id in member_of:
        return True
    return held_by_target(referral) and referral.target_id in member_of


def held_by_target(referral: Referral) -> bool:
    """Whether the current target has the referral in hand. Not before it is submitted, and not once
    it has returned it: a committee that declined a referral is a past handler from then on (masked,
    read-only), even while the referral still names it until the office sends it elsewhere."""
    return referral.target_id is not None and referral.state not in (State.DRAFT, State.DECLINED)


def access_log_visible_to(user: AnyUser) -> QuerySet[AccessLog]:
    """The read-audit entries a supervisor may review: those placed in their region."""
    from core.models import AccessLog

    if user.is_superuser:
        return AccessLog.objects.all()
    return AccessLog.objects.filter(regions.within(grants_of(user).region_codes("supervise_region")))


# --- Actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """What the user is with respect to one referral."""

    origin_officer: bool
    origin_reviewer: bool
    target_handler: bool
    target_dispatcher: bool
    supervisor: bool
    router: bool
    member_of: frozenset[int]
    # The petition offices the user acts for as an officer or a reviewer (复查复核 are kept by an office).
    petition_offices: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user: AnyUser, referral: Referral, *, as_if_held: bool = False) -> Actor:
        """``as_if_held``: as if the named target still had the referral in hand (see ``decide``)."""
        g = grants_of(user)
        held = as_if_held or held_by_target(referral)
        return cls(
            member_of=g.orgs("view_org_referrals"),
            petition_offices=g.orgs("refer_from") | g.orgs("review_for"),
            origin_officer=referral.origin_id in g.orgs("refer_from"),
            origin_reviewer=referral.origin_id in g.orgs("review_for"),
            target_handler=held and referral.target_id in g.orgs("handle_for"),
            target_dispatcher=held and referral.target_id in g.orgs("dispatch_for"),
            supervisor=g.covers("supervise_region", referral.region_code),
            router=g.covers("route_region", referral.region_code),
        )

    def past_handler(self, referral: Referral) -> bool:
        """One of the user's organisations had the referral before (asked only where it matters: a query)."""
        return bool(self.member_of) and referral.handlings.filter(organisation_id__in=self.member_of).exists()


def at_committee(referral: Referral) -> bool:
    """The referral is with a mediation committee (which accepts and mediates)."""
    return referral.target is not None and referral.target.kind == Organisation.Kind.MEDIATION_COMMITTEE


def at_router(referral: Referral) -> bool:
    """The referral is with a justice bureau or governance centre (which routes it onward)."""
    return referral.target is not None and referral.target.kind in Organisation.ROUTING_KINDS


def decide(user: AnyUser, referral: Referral, action: str) -> str:
    """ALLOWED, FORBIDDEN (not this user's to do) or UNAVAILABLE (not in this state), by the action's
    row in the registry (``referrals/registry.py``)."""
    rule = registry.action(action)
    if not user.is_authenticated or not user.is_active:
        return FORBIDDEN
    if not rule.who(Actor.of(user, referral), referral):
        # A committee that has just returned the referral, pressing 受理 a moment later, is told that
        # the referral has moved on (409, as when it loses a race), not that it never had the right.
        if (
            rule.kind == STEP
            and referral.state == State.DECLINED
            and rule.who(Actor.of(user, referral, as_if_held=True), referral)
        ):
            return UNAVAILABLE
        return FORBIDDEN
    if referral.merged_into_id is not None and rule.name != "unmerge":
        return UNAVAILABLE  # a merged referral is handled in the one it was folded into
    if not rule.when(referral) or registry.held(action, referral):
        return UNAVAILABLE
    return ALLOWED


def can(user: AnyUser, referral: Referral, action: str) -> bool:
    return decide(user, referral, action) == ALLOWED


def require(user: AnyUser, referral: Referral, action: str) -> None:
    decision = decide(user, referral, action)
    if decision == FORBIDDEN:
        raise Forbidden()
    if decision == UNAVAILABLE:
        if referral.merged_into_id is not None and action != "unmerge":
            raise NotAvailable(_("本案已并入其他案件，不再单独办理；如需单独办理，请先撤销合并。"))
        raise NotAvailable(registry.held(action, referral) or registry.action(action).refusal(referral) or None)


def available_actions(user: AnyUser, referral: Referral, kind: str = STEP) -> list[str]:
    """The actions of this kind (the action bar's steps by default) the user may take now, in order."""
    return [a.name for a in registry.actions(kind) if can(user, referral, a.name)]


def action_label(action: str) -> str:
    return str(registry.action(action).label)


# --- Where a referral may be sent ----------------------------------------------------------------


def referral_targets(origin: Organisation) -> QuerySet[Organisation]:
    """Receivers a petition office may refer to: any active committee, justice bureau or governance
    centre of its own city."""
    return Organisation.objects.accepting_referrals().filter(
        regions.within([regions.city_of(origin.region.code)], field="region__code")
    )


def dispatch_targets(referral: Referral) -> QuerySet[Organisation]:
    """Where a bureau or centre may route a referral (分派): a mediation committee of its own area."""
    target = referral.target
    assert target is not None, "only a referral at a bureau or centre is dispatched"
    return (
        Organisation.objects.accepting_referrals()
        .filter(kind=Organisation.Kind.MEDIATION_COMMITTEE)
        .filter(regions.within([target.region.code], field="region__code"))
        .exclude(pk=target.pk)
    )


def redirect_targets(user: AnyUser, referral: Referral) -> QuerySet[Organisation]:
    """Where a returned referral may go next: for the origin office any receiver of its city; for a
    supervising bureau's dispatcher (after ping-pong) a committee of the bureau's area. Never back to
    the one that just returned it."""
    if Actor.of(user, referral).origin_officer:
        targets = referral_targets(referral.origin)
    else:
        areas = [c for c in grants_of(user).region_codes("route_region") if regions.contains(c, referral.region_code)]
        targets = (
            Organisation.objects.accepting_referrals()
            .filter(kind=Organisation.Kind.MEDIATION_COMMITTEE)
            .filter(regions.within(areas, field="region__code"))
        )
    # Nothing to leave out while it names no receiver (as ``exclude(pk=None)`` leaves out nothing).
    return targets if referral.target_id is None else targets.exclude(pk=referral.target_id)


def escalation_targets(user: AnyUser, referral: Referral) -> QuerySet[Organisation]:
    """Where a dispute may be escalated (升级调解): a mediation committee of a higher tier above the
    referral's place — its county's, or its city's — in the user's own area (a county bureau escalates
    within its county, the city's bureau to the city's committees too)."""
    areas = grants_of(user).region_codes("route_region") + grants_of(user).region_codes("supervise_region")
    here = regions.level_of(referral.region_code)
    levels = range(regions.CITY, min(here, regions.TOWNSHIP))
    above = [
        code
        for code in regions.ancestors(referral.region_code)
        if regions.level_of(code) in levels and regions.contained_in_any(code, areas)
    ]
    return (
        Organisation.objects.accepting_referrals()
        .filter(kind=Organisation.Kind.MEDIATION_COMMITTEE, region__code__in=above)
        .select_related("region")
    )


def offices_of(user: AnyUser) -> QuerySet[Organisation]:
    """The petition offices the user registers referrals for (none: the user may not register)."""
    return Organisation.objects.filter(pk__in=grants_of(user).orgs("refer_from")).select_related("region")


def may_read_access_log(user: AnyUser) -> bool:
    """The read audit is for supervisors (their region's entries) and administrators."""
    return user.is_superuser or bool(grants_of(user).region_codes("supervise_region"))


# --- Who hears about a referral --------------------------------------------------------------


def members(org_ids: Iterable[int | None], roles: Iterable[str] | None = None) -> QuerySet[AuthUser]:
    """Active users who are members of these organisations (in these roles)."""
    ids = [i for i in org_ids if i]
    qs = User.objects.filter(is_active=True, memberships__organisation_id__in=ids)
    if roles is not None:
        qs = qs.filter(memberships__role__in=list(roles))
    return qs.distinct()


def supervisors_of(referral: Referral) -> QuerySet[AuthUser]:
    """People whose supervision grant covers the referral's region (county, city, township office)."""
    codes = regions.ancestors(referral.region_code)
    groups = RegionGroupObjectPermission.objects.filter(
        content_object__code__in=codes, permission__codename="supervise_region"
    ).values("group_id")
    return User.objects.filter(is_active=True, groups__in=groups).distinct()


def audience(referral: Referral, who: str) -> QuerySet[AuthUser]:
    """The people to tell, by their relation to the referral. Each can see the referral."""
    if who == "origin":
        return members([referral.origin_id])
    if who == "origin_reviewers":
        return members([referral.origin_id], [Role.REVIEWER])
    if who == "target":
        return members([referral.target_id]) if referral.state != State.DRAFT else User.objects.none()
    if who == "supervisors":
        return supervisors_of(referral) if referral.state != State.DRAFT else User.objects.none()
    if who == "appeal_keepers":  # the offices keeping a 复查 or 复核 not yet answered
        return members(referral.appeals.filter(decided_on__isnull=True).values_list("office_id", flat=True))
    raise ValueError(who)


def organisations_watching(referral: Referral) -> list[int]:
    """Organisations whose members' pages show this referral (for ``referral.changed`` pushes)."""
    ids = {referral.origin_id}
    if referral.state != State.DRAFT:
        if referral.target_id:
            ids.add(referral.target_id)
        ids.update(referral.handlings.values_list("organisation_id", flat=True))
        ids.update(referral.appeals.values_list("office_id", flat=True))
        codes = regions.ancestors(referral.region_code)
        ids.update(
            Organisation.objects.filter(
                kind__in=(Organisation.Kind.JUSTICE_BUREAU, Organisation.Kind.JUDICIAL_OFFICE),
                region__code__in=codes,
                active=True,
            ).values_list("pk", flat=True)
        )
    return sorted(ids)
