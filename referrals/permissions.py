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

Answers: not visible → 404; visible but not this person's to do → 403 (``Forbidden``); theirs but
not possible in the current state → 409 (``NotAvailable``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from referrals.errors import Forbidden, NotAvailable
from referrals.models import (
    CONCLUDED_STATES,
    OPEN_STATES,
    Handling,
    Referral,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
    State,
)
from townships.models import Organisation, RegionGroupObjectPermission, Role
from townships.roles import Grants, load_grants_cached

User = get_user_model()

ALLOWED = "allowed"
FORBIDDEN = "forbidden"
UNAVAILABLE = "unavailable"


def grants_of(user) -> Grants:
    """The user's grants, read once and kept on the user object for the rest of the request."""
    return load_grants_cached(user)


def forget_grants(user) -> None:
    user.__dict__.pop("_fangdiao_grants", None)


# --- Visibility ------------------------------------------------------------------------------


def referrals_visible_to(user) -> QuerySet[Referral]:
    """Every referral the user may open, as one filtered query (no per-referral grant rows)."""
    if not user.is_authenticated or not user.is_active:
        return Referral.objects.none()
    if user.is_superuser:
        return Referral.objects.all()
    g = grants_of(user)
    member_of = g.orgs("view_org_referrals")
    regions = set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))
    if not regions:
        return Referral.objects.filter(pk__in=_ids_of_organisations(user, member_of))
    past_draft = Q(target_id__in=member_of) | region_range(sorted(regions))
    if member_of:
        past_draft |= Q(pk__in=Handling.objects.filter(organisation_id__in=member_of).values("referral_id"))
    past_draft |= Q(pk__in=ReferralUserObjectPermission.objects.filter(user=user).values("content_object_id"))
    past_draft |= Q(pk__in=ReferralGroupObjectPermission.objects.filter(group__user=user).values("content_object_id"))
    # A draft is the petition office's own working paper until it is submitted.
    return Referral.objects.filter(Q(origin_id__in=member_of) | (~Q(state=State.DRAFT) & past_draft))


def region_range(codes, *, field: str = "region_code") -> Q:
    """Rows under any of these region codes, as ranges on an indexed code column.

    [code, code + "A") holds exactly the codes that start with ``code`` (digits sort before letters
    in every collation), and unlike ``LIKE 'code%'`` a plain B-tree index serves it.
    """
    within = Q(pk__in=[])
    for code in codes:
        within |= Q(**{f"{field}__gte": code, f"{field}__lt": code + "A"})
    return within


def _ids_of_organisations(user, member_of: frozenset[int]):
    """The same rule for someone without a regional grant, as one subquery of ids (a UNION).

    A committee or an office sees a small share of all referrals; each branch of the union is read
    from its own index (origin, target, handlings, shares), where an OR of them would make the
    database read every referral to find that share.
    """
    past_draft = ~Q(state=State.DRAFT)
    return (
        Referral.objects.filter(origin_id__in=member_of)
        .order_by()
        .values("pk")
        .union(
            Referral.objects.filter(past_draft, target_id__in=member_of).order_by().values("pk"),
            # Handlings begin at submission: a referral with one is never a draft.
            Handling.objects.filter(organisation_id__in=member_of).order_by().values("referral_id"),
            ReferralUserObjectPermission.objects.filter(user=user)
            .exclude(content_object__state=State.DRAFT)
            .order_by()
            .values("content_object_id"),
            ReferralGroupObjectPermission.objects.filter(group__user=user)
            .exclude(content_object__state=State.DRAFT)
            .order_by()
            .values("content_object_id"),
        )
    )


def referrals_visible_in_area(user, codes: tuple[str, ...]) -> QuerySet[Referral]:
    """Visible referrals within the regions ``codes``, for statistics over an area.

    Where the user supervises every one of those regions, visibility there is simply "past draft,
    or a draft of my own office": the same set as ``referrals_visible_to`` restricted to the area,
    stated so that the database can read it from the region index alone. Otherwise the general
    rule applies. The area is a range on the indexed ``region_code`` ([code, code + "A") holds
    exactly the codes under ``code``: digits sort before letters).
    """
    within = region_range(codes) if codes else Q()
    if supervises_area(user, codes):
        if user.is_superuser:
            return Referral.objects.filter(within)
        mine = grants_of(user).orgs("view_org_referrals")
        return Referral.objects.filter(within).filter(~Q(state=State.DRAFT) | Q(origin_id__in=mine))
    return referrals_visible_to(user).filter(within) if codes else referrals_visible_to(user)


def supervises_area(user, codes) -> bool:
    """Whether the user sees every referral past draft in each of these regions (a superuser:
    everywhere)."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    g = grants_of(user)
    supervised = set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))
    return bool(codes) and all(any(code.startswith(s) for s in supervised) for code in codes)


def get_referral_for_user(user, pk: int, *, queryset: QuerySet[Referral] | None = None) -> Referral:
    """The referral if the user may see it; 404 otherwise (never say that it exists)."""
    qs = queryset if queryset is not None else referrals_visible_to(user)
    try:
        return qs.get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404("referral not visible") from None


def can_see_personal_data(user, referral: Referral) -> bool:
    """Full ID numbers, phones and addresses: the origin office and the current handler only."""
    if not user.is_authenticated:
        return False
    member_of = grants_of(user).orgs("view_org_referrals")
    if referral.origin_id in member_of:
        return True
    return referral.state != State.DRAFT and referral.target_id in member_of


def access_log_visible_to(user) -> QuerySet:
    """The read-audit entries a supervisor may review: those placed in their region."""
    from referrals.models import AccessLog

    if user.is_superuser:
        return AccessLog.objects.all()
    codes = grants_of(user).region_codes("supervise_region")
    if not codes:
        return AccessLog.objects.none()
    match = Q()
    for code in codes:
        match |= Q(region_code__startswith=code)
    return AccessLog.objects.filter(match)


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

    @classmethod
    def of(cls, user, referral: Referral) -> Actor:
        g = grants_of(user)
        return cls(
            member_of=g.orgs("view_org_referrals"),
            origin_officer=referral.origin_id in g.orgs("refer_from"),
            origin_reviewer=referral.origin_id in g.orgs("review_for"),
            target_handler=referral.target_id is not None and referral.target_id in g.orgs("handle_for"),
            target_dispatcher=referral.target_id is not None and referral.target_id in g.orgs("dispatch_for"),
            supervisor=g.covers("supervise_region", referral.region_code),
            router=g.covers("route_region", referral.region_code),
        )

    def past_handler(self, referral: Referral) -> bool:
        """One of the user's organisations had the referral before (asked only where it matters: a query)."""
        return bool(self.member_of) and referral.handlings.filter(organisation_id__in=self.member_of).exists()


def _fsm(name: str) -> Callable[[Referral], bool]:
    return lambda r: can_proceed(getattr(r, name))


def _target_kind(*kinds: str) -> Callable[[Referral], bool]:
    return lambda r: r.target is not None and r.target.kind in kinds


@dataclass(frozen=True)
class ActionRule:
    label: str
    who: Callable[[Actor, Referral], bool]
    when: Callable[[Referral], bool]


_committee = _target_kind(Organisation.Kind.MEDIATION_COMMITTEE)
_router = _target_kind(*Organisation.ROUTING_KINDS)

ACTIONS: dict[str, ActionRule] = {
    "edit": ActionRule(_("修改"), lambda a, r: a.origin_officer, lambda r: r.state == State.DRAFT),
    "submit": ActionRule(_("移交"), lambda a, r: a.origin_officer, _fsm("submit")),
    "dispatch": ActionRule(_("分派"), lambda a, r: a.target_dispatcher, lambda r: _fsm("dispatch")(r) and _router(r)),
    "accept": ActionRule(_("受理"), lambda a, r: a.target_handler, lambda r: _fsm("accept")(r) and _committee(r)),
    "decline": ActionRule(_("退回"), lambda a, r: a.target_handler or a.target_dispatcher, _fsm("decline")),
    # The origin office sends a returned referral elsewhere; after two returns ("ping-pong") the
    # supervising bureau's dispatchers may route it themselves.
    "redirect": ActionRule(
        _("重新移交"), lambda a, r: a.origin_officer or (a.router and r.ping_pong), _fsm("redirect")
    ),
    "extend": ActionRule(_("延期"), lambda a, r: a.target_handler, _fsm("extend")),
    "suspend": ActionRule(_("中止"), lambda a, r: a.target_handler, _fsm("suspend")),
    "resume": ActionRule(_("恢复调解"), lambda a, r: a.target_handler, _fsm("resume")),
    "succeed": ActionRule(_("调解成功"), lambda a, r: a.target_handler, _fsm("succeed")),
    "fail": ActionRule(_("终止调解"), lambda a, r: a.target_handler, _fsm("fail")),
    "close": ActionRule(_("审核办结"), lambda a, r: a.origin_reviewer, _fsm("close")),
    "reopen": ActionRule(_("重新调解"), lambda a, r: a.origin_reviewer, _fsm("reopen")),
    # Mediation records (mediation app): the handling committee, while mediating.
    "record_session": ActionRule(_("记录调解"), lambda a, r: a.target_handler, lambda r: r.state == State.MEDIATING),
    "record_agreement_progress": ActionRule(
        _("登记履行与司法确认"), lambda a, r: a.target_handler, lambda r: r.state in (State.SUCCEEDED, State.CLOSED)
    ),
    "followup": ActionRule(
        _("回访"),
        lambda a, r: a.target_handler or a.origin_officer or a.origin_reviewer,
        lambda r: r.state in (*CONCLUDED_STATES, State.CLOSED),
    ),
    "supervise": ActionRule(
        _("督办"), lambda a, r: a.supervisor, lambda r: r.state in OPEN_STATES and r.state != State.DRAFT
    ),
    # A supervision order is answered by the organisation it was addressed to, which may have
    # routed the case on since (mediation/workflow.py checks the addressee itself).
    "respond_supervision": ActionRule(
        _("回复督办"),
        lambda a, r: (
            a.target_handler or a.target_dispatcher or a.origin_officer or a.origin_reviewer or a.past_handler(r)
        ),
        lambda r: r.state != State.DRAFT,
    ),
    "attach": ActionRule(
        _("上传材料"),
        lambda a, r: a.origin_officer or a.target_handler,
        lambda r: r.state != State.CLOSED,
    ),
}

# The actions a referral's page and ``available_actions`` offer, in the order of the work.
WORKFLOW_ACTIONS = (
    "submit",
    "dispatch",
    "accept",
    "decline",
    "redirect",
    "extend",
    "suspend",
    "resume",
    "succeed",
    "fail",
    "close",
    "reopen",
)


def decide(user, referral: Referral, action: str) -> str:
    """ALLOWED, FORBIDDEN (not this user's to do) or UNAVAILABLE (not in this state)."""
    rule = ACTIONS[action]
    if not user.is_authenticated or not user.is_active:
        return FORBIDDEN
    if not rule.who(Actor.of(user, referral), referral):
        return FORBIDDEN
    return ALLOWED if rule.when(referral) else UNAVAILABLE


def can(user, referral: Referral, action: str) -> bool:
    return decide(user, referral, action) == ALLOWED


def require(user, referral: Referral, action: str) -> None:
    decision = decide(user, referral, action)
    if decision == FORBIDDEN:
        raise Forbidden()
    if decision == UNAVAILABLE:
        raise NotAvailable()


def available_actions(user, referral: Referral, actions: Iterable[str] = WORKFLOW_ACTIONS) -> list[str]:
    return [a for a in actions if can(user, referral, a)]


def action_label(action: str) -> str:
    return str(ACTIONS[action].label)


# --- Who hears about a referral --------------------------------------------------------------


def members(org_ids: Iterable[int | None], roles: Iterable[str] | None = None) -> QuerySet:
    """Active users who are members of these organisations (in these roles)."""
    ids = [i for i in org_ids if i]
    qs = User.objects.filter(is_active=True, memberships__organisation_id__in=ids)
    if roles is not None:
        qs = qs.filter(memberships__role__in=list(roles))
    return qs.distinct()


def supervisors_of(referral: Referral) -> QuerySet:
    """People whose supervision grant covers the referral's region (county, city, township office)."""
    codes = [referral.region_code[:n] for n in range(2, len(referral.region_code) + 1)]
    groups = RegionGroupObjectPermission.objects.filter(
        content_object__code__in=codes, permission__codename="supervise_region"
    ).values("group_id")
    return User.objects.filter(is_active=True, groups__in=groups).distinct()


def audience(referral: Referral, who: str) -> QuerySet:
    """The people to tell, by their relation to the referral. Each can see the referral."""
    if who == "origin":
        return members([referral.origin_id])
    if who == "origin_reviewers":
        return members([referral.origin_id], [Role.REVIEWER])
    if who == "target":
        return members([referral.target_id]) if referral.state != State.DRAFT else User.objects.none()
    if who == "supervisors":
        return supervisors_of(referral) if referral.state != State.DRAFT else User.objects.none()
    raise ValueError(who)


def organisations_watching(referral: Referral) -> list[int]:
    """Organisations whose members' pages show this referral (for ``referral.changed`` pushes)."""
    ids = {referral.origin_id}
    if referral.state != State.DRAFT:
        if referral.target_id:
            ids.add(referral.target_id)
        ids.update(referral.handlings.values_list("organisation_id", flat=True))
        codes = [referral.region_code[:n] for n in range(2, len(referral.region_code) + 1)]
        ids.update(
            Organisation.objects.filter(
                kind__in=(Organisation.Kind.JUSTICE_BUREAU, Organisation.Kind.JUDICIAL_OFFICE),
                region__code__in=codes,
                active=True,
            ).values_list("pk", flat=True)
        )
    return sorted(ids)
