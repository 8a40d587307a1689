"""Every URL pattern × every persona → the status each must get, generated from the URL configuration.

``test_every_url_pattern_has_an_entry`` walks ``django.urls.get_resolver()`` (config/urls.py and the
app URL modules it includes; the admin and Django's own language switch aside): a new URL without an
entry in ``MATRIX`` fails it. Each entry says how to build the URL's arguments and what each persona
gets for each method: 404 may not see it, 403 sees it but may not do it, 401 anonymous API call,
302 anonymous page (to /login/), 200/201/302 allowed.

Expectations already written by hand in the referral and mediation matrices are imported from them
(``tests/referrals/test_permission_matrix.py``, ``tests/mediation/test_access_matrix.py``), not
re-derived; pages of the workflow actions take the API's expectations (a success or an anonymous
call becomes a redirect). Every request runs in a savepoint rolled back afterwards, so that each
persona meets the same scene; a refused request must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AccessLog
from mediation.models import (
    Agreement,
    Attachment,
    CorrectionRequest,
    FollowUp,
    MediationSession,
    SupervisionOrder,
)
from messaging.models import Message
from notifications.models import EmailPreference, Notification
from referrals.appeals import answer_appeal, record_reply, register_appeal
from referrals.assignments import record_assignment, report_back
from referrals.lawyers import add_lawyer
from referrals.leader_cases import assign_leader
from referrals.models import Lawyer, LeaderCase, Referral, SavedFilter, TimelineEvent
from tests.conftest import BAISHA_PJ, Story, login
from tests.factories import PASSWORD, committee, day, extension_consents_form, make_user
from tests.fixtures.rosters import builders as b
from tests.mediation import test_access_matrix as mediation_matrix
from tests.referrals import test_permission_matrix as referral_matrix
from tests.security.conftest import EVERYONE, PERSONAS, Scene, build_scene
from townships.models import Mediator, Organisation, RosterImport

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCLUDED_NAMESPACES = {"admin"}
EXCLUDED_NAMES = {"set_language"}  # Django's own view (django.views.i18n)


def row(*statuses: int) -> dict[str, int]:
    return referral_matrix.row(*statuses)


def everyone(status: int, anonymous: int) -> dict[str, int]:
    return {**dict.fromkeys(PERSONAS, status), "anonymous": anonymous}


def only(allowed: dict[str, int], refused: int, anonymous: int) -> dict[str, int]:
    """``allowed`` personas get their status, every other persona ``refused``."""
    return {**{p: allowed.get(p, refused) for p in PERSONAS}, "anonymous": anonymous}


# --- The URL patterns ------------------------------------------------------------------------------


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(key, route) of every pattern: the key is the URL name with its namespace, else the route."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            inner = ":".join(filter(None, [namespace, p.namespace or ""]))
            if inner.split(":")[0] in EXCLUDED_NAMESPACES:
                continue
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            if p.name in EXCLUDED_NAMES:
                continue
            key = f"{namespace}:{p.name}" if namespace and p.name else (p.name or prefix + str(p.pattern))
            yield key, prefix + str(p.pattern)


# --- How a check is made -------------------------------------------------------------------------


class Ctx:
    """What the URLs of one test are built from: the personas, the story, and (when asked) the scene."""

    def __init__(self, people) -> None:
        self.people = people
        self.story = Story(people)

    @cached_property
    def scene(self) -> Scene:
        return build_scene(self.people)

    @cached_property
    def tokens(self) -> dict[str, str]:
        return {p: Token.objects.get_or_create(user=getattr(self.people, p))[0].key for p in PERSONAS}


@dataclass
class Check:
    method: str
    url: Callable[[Ctx], str]  # built once per check: every persona calls the same object
    expected: dict[str, int]
    body: Callable[[Ctx, str], dict] = field(default=lambda ctx, persona: {})
    content_type: str = ""  # of an allowed download
    label: str = ""


def client_for(ctx: Ctx, persona: str, *, page: bool):
    if page:
        return Client() if persona == "anonymous" else login(getattr(ctx.people, persona))
    client = APIClient()
    if persona != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {ctx.tokens[persona]}")
    return client


def send(client, method: str, url: str, body: dict, *, page: bool):
    call = getattr(client, method)
    if method == "get":
        return call(url)
    if page:
        return call(url, body)
    multipart = any(hasattr(v, "read") for v in body.values())
    return call(url, body, format="multipart" if multipart else "json")


def fingerprint() -> tuple:
    """Everything a request of these URLs could change."""
    return (
        tuple(Referral.objects.order_by("pk").values_list("pk", "state", "updated_at")),
        TimelineEvent.objects.count(),
        AccessLog.objects.count(),
        Attachment.objects.count(),
        tuple(MediationSession.objects.order_by("pk").values_list("pk", "held_on", "location", "record")),
        FollowUp.objects.count(),
        tuple(SupervisionOrder.objects.order_by("pk").values_list("pk", "response")),
        tuple(Agreement.objects.order_by("pk").values_list("pk", "performance")),
        tuple(CorrectionRequest.objects.order_by("pk").values_list("pk", "received", "answered_at")),
        Notification.objects.count(),
        Notification.objects.filter(read_at__isnull=True).count(),
        tuple(EmailPreference.objects.order_by("pk").values_list("pk", "enabled")),
        RosterImport.objects.count(),
        tuple(Mediator.objects.order_by("pk").values_list("pk", "active", "mobile")),
        Organisation.objects.count(),
        tuple(SavedFilter.objects.order_by("pk").values_list("pk", "name", "query")),
        tuple(LeaderCase.objects.order_by("pk").values_list("pk", "removed_on", "reason")),
        tuple(Message.objects.order_by("pk").values_list("pk", "status", "attempts")),
    )


# --- Entries reused from the hand-written matrices -------------------------------------------------


def api_action(case) -> Check:
    action, how, body, expected = case
    return Check(
        "post",
        lambda ctx: f"/api/referrals/{referral_matrix.build(ctx.story, how).pk}/actions/{action}/",
        expected,
        lambda ctx, persona: body(ctx.people),
        label=f"api {action}",
    )


ACTION_CASES = {case[0]: case for case in referral_matrix.ACTION_CASES}


def page_action(action: str, form: Callable[[object], dict]) -> Check:
    """The page twin of an API action: allowed or anonymous is a redirect, a refusal the same status."""
    _action, how, _body, expected = ACTION_CASES[action]
    return Check(
        "post",
        lambda ctx: reverse(f"referrals:{action}", args=[referral_matrix.build(ctx.story, how).pk]),
        {p: 302 if status in (200, 401) else status for p, status in expected.items()},
        lambda ctx, persona: form(ctx.people),
        label=f"page {action}",
    )


def page_case(url: str, state: str, method: str, expected: dict, body=None) -> Check:
    return Check(
        method,
        lambda ctx: url.format(id=ctx.story.at(state).pk),
        expected,
        (lambda ctx, persona: body(ctx.people)) if body else (lambda ctx, persona: {}),
        label=f"{method} {url} ({state})",
    )


PAGE_CASES = {(c[0], c[1]): c for c in referral_matrix.PAGE_CASES}


def from_page_cases(url: str, *states: str) -> list[Check]:
    checks = []
    for state in states:
        _url, _state, method, expected = PAGE_CASES[(url, state)]
        action = url.rstrip("/").rsplit("/", 1)[1]
        checks.append(page_case(url, state, method, expected, referral_matrix.PAGE_BODIES.get(action)))
    return checks


def api_read(what: str, state: str) -> Check:
    (_what, _state, expected) = next(c for c in referral_matrix.READ_CASES if c[:2] == (what, state))
    suffix = "timeline/" if what == "timeline" else ""
    return Check("get", lambda ctx: f"/api/referrals/{ctx.story.at(state).pk}/{suffix}", expected, label=f"{what}")


ENDPOINTS = {e.name: e for e in mediation_matrix.ENDPOINTS}


def endpoint(name: str, content_type: str = "") -> Check:
    e = ENDPOINTS[name]
    expected = {p: mediation_matrix.expected_status(e, p) for p in EVERYONE}
    return Check(
        e.method,
        lambda ctx: e.path.format(**mediation_matrix.scene(ctx.story, ctx.people, e.state)),
        expected,
        lambda ctx, persona: e.body(ctx.people),
        content_type,
        label=name,
    )


# --- Entries written here --------------------------------------------------------------------------


def scene_url(name: str, args: Callable[[Scene], list]) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(name, args=args(ctx.scene))


def fixed(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(name)


def petition_extended(ctx: Ctx) -> Referral:
    from referrals.workflow import extend_petition_referral

    return extend_petition_referral(
        ctx.story.mediating(), by=ctx.people.reviewer, days=10, reason="案情复杂", approved_by_name="陈国强"
    )


LEADER = {"name": "黄志坚", "post": "蓬江区委副书记", "level": "county"}


def leader_body(ctx: Ctx, persona: str) -> dict:
    return {**LEADER, "assigned_on": timezone.localdate().isoformat()}


def on_leader_list(ctx: Ctx) -> Referral:
    """A submitted referral its office has put on a leader's list (领导包案)."""
    referral = ctx.story.submitted()
    assign_leader(referral, by=ctx.people.officer, assigned_on=timezone.localdate(), **LEADER)
    return referral


def assignment_body(ctx: Ctx, persona: str) -> dict:
    day = timezone.localdate()
    return {
        "level": "provincial",
        "batch": "2026年第2批",
        "assigned_on": day.isoformat(),
        "report_due_on": day.isoformat(),
    }


def reported_with_file(ctx: Ctx) -> Referral:
    """A closed 交办件 reported back with the report as sent."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from lib.uploads import minimal_pdf

    referral = ctx.story.closed()
    day = timezone.localdate()
    p = ctx.people
    record_assignment(referral, by=p.officer, level="city", batch="第1批", assigned_on=day, report_due_on=day)
    scan = SimpleUploadedFile("report.pdf", minimal_pdf("report"), content_type="application/pdf")
    report_back(referral, by=p.reviewer, reported_on=day, report="已上报。", file=scan)
    return referral


def replied(ctx: Ctx) -> Referral:
    """A closed referral whose written reply was delivered today: a 复查 may be asked for."""
    referral = ctx.story.closed()
    record_reply(referral, by=ctx.people.reviewer, delivered_on=timezone.localdate())
    referral.refresh_from_db()
    return referral


def appealed(ctx: Ctx) -> Referral:
    """A replied referral with a 复查 kept by 江门市信访局 (none of the personas), answered with the
    opinion as a document but not yet delivered."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from lib.uploads import minimal_pdf

    referral = replied(ctx)
    keeper = make_user(memberships=[(Organisation.objects.get(name="江门市信访局"), "officer")])
    day = timezone.localdate()
    register_appeal(referral, by=keeper, requested_on=day, grounds="不服答复意见。")
    referral.refresh_from_db()
    scan = SimpleUploadedFile("opinion.pdf", minimal_pdf("opinion"), content_type="application/pdf")
    answer_appeal(referral, by=keeper, outcome="upheld", decided_on=day, opinion="维持。", document=scan)
    return referral


def by_number_url(name: str) -> Callable[[Ctx], str]:
    """A fixed URL posted a replied referral's number: the referral is made with the URL, once."""

    def build(ctx: Ctx) -> str:
        ctx.__dict__["replied"] = replied(ctx)
        return reverse(name)

    return build


def by_number(ctx: Ctx, persona: str) -> dict:
    return {"number": ctx.__dict__["replied"].number, **appeal_body(ctx, persona)}


def appeal_body(ctx: Ctx, persona: str) -> dict:
    return {"requested_on": timezone.localdate().isoformat(), "grounds": "不服答复意见。"}


def lawyers_file(ctx: Ctx, persona: str) -> dict:
    """A lawyers' roster of one, as a spreadsheet."""
    data = b.xlsx_bytes([["谭志远", "律师", "五邑律所"]], header=["姓名", "类别", "执业机构"])
    return {"file": b.upload("律师名册.xlsx", data)}


def a_lawyer(ctx: Ctx) -> Lawyer:
    """A lawyer on 蓬江区信访局's roster."""
    return add_lawyer(
        by=ctx.people.officer, office=ctx.people.petition_office, name="谭志远", kind="lawyer", firm="五邑律所"
    )


def lawyer_body(ctx: Ctx, persona: str) -> dict:
    return {"name": f"律师{persona}", "kind": "lawyer", "firm": "五邑律所"}


def consultation_body(ctx: Ctx, persona: str) -> dict:
    lawyer = Lawyer.objects.filter(office=ctx.people.petition_office).first() or a_lawyer(ctx)
    return {"lawyer": lawyer.pk, "held_on": timezone.localdate().isoformat(), "persons": 2, "topic": "咨询"}


def linked_pair(ctx: Ctx) -> tuple[Referral, Referral]:
    """Two submitted referrals of 蓬江区信访局, linked."""
    from referrals.links import link_referral

    a, b = ctx.story.submitted(), ctx.story.submitted()
    link_referral(a, by=ctx.people.officer, other=b, kind="related")
    return a, b


def link_target(ctx: Ctx) -> str:
    """The URL to link a new submitted referral from, with the one to link kept for the body."""
    a, b = ctx.story.submitted(), ctx.story.submitted()
    ctx.link_other = b
    return reverse("api-referral-links", args=[a.pk])


def link_page_target(ctx: Ctx) -> str:
    a, b = ctx.story.submitted(), ctx.story.submitted()
    ctx.link_other = b
    return reverse("referrals:link_referral", args=[a.pk])


def unlink_target(ctx: Ctx, name: str) -> str:
    a, b = linked_pair(ctx)
    ctx.link_other = b
    return reverse(name, args=[a.pk, b.pk]) if name == "api-referral-link" else reverse(name, args=[a.pk])


# 类案: a group led by 蓬江区信访局 holding one referral mediated at 环市 — its committee sees the group
# (it holds the combined sessions), the office manages it, the area's supervisors read it.
def a_group(ctx: Ctx):
    from referrals import case_groups

    group = case_groups.create_group(
        by=ctx.people.officer, name="某小区物业纠纷", lead_organisation=ctx.people.petition_office
    )
    ctx.group_member = ctx.story.with_session()
    case_groups.join_case_group(ctx.group_member, by=ctx.people.officer, group=group)
    return group


def group_url(name: str, *, member: bool = False) -> Callable[[Ctx], str]:
    def url(ctx: Ctx) -> str:
        group = a_group(ctx)
        return reverse(name, args=[group.pk, ctx.group_member.pk] if member else [group.pk])

    return url


def group_join_url(name: str) -> Callable[[Ctx], str]:
    """A group and a referral of the office to put in it, kept for the body."""

    def url(ctx: Ctx) -> str:
        group = a_group(ctx)
        ctx.joining = ctx.story.submitted()
        return reverse(name, args=[group.pk])

    return url


def group_session_body(ctx: Ctx, persona: str) -> dict:
    return {
        "referrals": [ctx.group_member.pk],
        "held_on": timezone.localdate().isoformat(),
        "location": "小区会议室",
        "participants": "业主代表",
        "record": "合并调解。",
        "mediators": [ctx.people.lead.pk],
    }


# Managing a group: its lead organisation's staff (the office); the committee and the supervisors who
# read it get 403; whoever cannot see it 404.
GROUP_MANAGERS = (302, 302, 403, 404, 403, 403, 404, 302)
GROUP_READERS = (200, 200, 200, 404, 200, 200, 404, 302)


# Linking: those with a part in the referral (the origin office, the handling committee) who see both.
LINKERS = (302, 302, 302, 404, 403, 403, 404, 302)


# The petition office keeps its lawyers' roster (404: cannot see it; 403: sees it, not theirs).
LAWYER_KEEPERS = (200, 200, 404, 404, 403, 403, 404, 401)


# The origin office keeps the list (404: cannot see the referral; 403: sees it, not theirs to keep).
LEADER_KEEPERS = (302, 302, 403, 404, 403, 403, 404, 302)


def mediator_notification(scene: Scene) -> list:
    return [scene.notifications["mediator"][0]]


def mediators_saved_filter(ctx: Ctx) -> int:
    return SavedFilter.objects.create(user=ctx.people.mediator, name="本周超期", query="overdue=true").pk


def own_credentials(ctx: Ctx, persona: str) -> dict:
    if persona == "anonymous":
        return {"username": "officer", "password": "not-the-password"}
    return {"username": getattr(ctx.people, persona).username, "password": PASSWORD}


def mediators_other_token(ctx: Ctx) -> str:
    """Another client's token of the mediator's (not the one a persona's API client is using)."""
    from accounts.tokens import issue_token

    return str(issue_token(ctx.people.mediator, name="手机")[0].pk)


def roster_file(ctx: Ctx, persona: str) -> dict:
    return {"file": b.upload("花名册.xlsx", b.xlsx_bytes([b.person(1)])), "dry_run": "true"}


def applied_roster_import(ctx: Ctx) -> int:
    """A roster import the supervisor has just applied (one to undo)."""
    from townships.importers import start_roster_import

    upload = b.upload("花名册.xlsx", b.xlsx_bytes([b.person(3)]))
    return start_roster_import(user=ctx.people.supervisor, upload=upload, dry_run=False).pk


def given_up_message(name: str):
    """The resend URL (API or page) of a message to a party of a submitted referral that the sender
    gave up on."""

    def url(ctx: Ctx) -> str:
        referral = ctx.story.submitted()
        message = Message.objects.filter(referral=referral).first()
        Message.objects.filter(pk=message.pk).update(status=Message.Status.GAVE_UP)
        return reverse(name, args=[referral.pk, message.pk])

    return url


TOWNSHIP_VIEWERS = {"mediator": 200, "other_mediator": 200, "supervisor": 200, "city": 200}
ROSTER_KEEPERS = {"supervisor": 200, "city": 200}
SUPERVISORS_OWN = {"supervisor": 200}


def _a_party(ctx):
    return ctx.story.submitted().parties.order_by("position").first()


def party_link_api(ctx) -> str:
    party = _a_party(ctx)
    return reverse("api-party-link", args=[party.referral_id, party.pk])


def party_link_api_live(ctx) -> str:
    from messaging import links

    party = _a_party(ctx)
    links.live_link(party)
    return reverse("api-party-link", args=[party.referral_id, party.pk])


def party_link_page(ctx) -> str:
    party = _a_party(ctx)
    return reverse("messaging:party_link", args=[party.referral_id, party.pk])


def portal_url(name: str):
    def url(ctx) -> str:
        from messaging import links

        return reverse(name, args=[links.token(links.live_link(_a_party(ctx)))])

    return url


def portal_document(ctx) -> str:
    """A file of the referral's dossier through a party's link (unverified: nobody gets it)."""
    from messaging import links

    party = _a_party(ctx)
    return reverse("portal:document", args=[links.token(links.live_link(party)), 1])


MATRIX: dict[str, list[Check]] = {
    "home": [Check("get", fixed("home"), everyone(200, 302))],
    "login": [Check("get", fixed("login"), everyone(302, 200))],
    # The service worker: no data, fetched by the browser whether or not the user is signed in.
    "service_worker": [
        Check("get", fixed("service_worker"), everyone(200, 200), content_type="application/javascript"),
        Check("post", fixed("service_worker"), everyone(405, 405)),
    ],
    "logout": [
        Check("post", fixed("logout"), everyone(302, 302)),
        Check("get", fixed("logout"), everyone(405, 302)),
    ],
    # --- Referral pages
    "referrals:list": [Check("get", fixed("referrals:list"), everyone(200, 302))],
    "referrals:create_referral": from_page_cases("/referrals/new/", "draft"),
    "referrals:audit": [Check("get", fixed("referrals:audit"), only({"supervisor": 200, "city": 200}, 403, 302))],
    "referrals:detail": from_page_cases("/referrals/{id}/", "submitted", "draft"),
    # A person's own saved list filters: anyone signed in keeps theirs; another's is "not found".
    "referrals:saved_filters": [
        Check("get", fixed("referrals:saved_filters"), everyone(200, 302)),
        Check(
            "post",
            fixed("referrals:saved_filters"),
            everyone(302, 302),
            lambda ctx, p: {"name": "本周超期", "query": "overdue=true"},
        ),
    ],
    "referrals:delete_saved_filter": [
        Check(
            "post",
            lambda ctx: reverse("referrals:delete_saved_filter", args=[mediators_saved_filter(ctx)]),
            only({"mediator": 302}, 404, 302),
        )
    ],
    "referrals:update_draft": from_page_cases("/referrals/{id}/edit/", "draft"),
    "referrals:action": [
        Check(
            "post",
            lambda ctx: reverse("referrals:action", args=[ctx.story.submitted().pk, "approve"]),
            row(404, 404, 404, 404, 404, 404, 404, 302),
            label="unknown action",
        ),
        Check(
            "get",
            lambda ctx: reverse("referrals:action", args=[ctx.story.submitted().pk, "accept"]),
            everyone(405, 302),
            label="GET is not allowed",
        ),
    ],
    "referrals:submit": from_page_cases("/referrals/{id}/actions/submit/", "draft"),
    "referrals:accept": from_page_cases("/referrals/{id}/actions/accept/", "submitted"),
    "referrals:close": from_page_cases("/referrals/{id}/actions/close/", "closable"),
    "referrals:dispatch": [page_action("dispatch", lambda p: {"target": p.huanshi.pk})],
    "referrals:decline": [page_action("decline", lambda p: {"reason": "party_refused"})],
    "referrals:redirect": [
        page_action("redirect", lambda p: {"target": committee(BAISHA_PJ).pk}),
    ],
    "referrals:extend": [
        # Every party's consent, one row each, for the referral the check has just built (the newest one).
        page_action(
            "extend",
            lambda p: {"days": 5, "reason": "双方同意", **extension_consents_form(Referral.objects.latest("pk"))},
        ),
    ],
    "referrals:suspend": [page_action("suspend", lambda p: {"reason": "等待鉴定"})],
    "referrals:resume": [page_action("resume", lambda p: {})],
    "referrals:succeed": [endpoint("page-succeed")],
    "referrals:fail": [endpoint("page-fail")],
    "referrals:reopen": [page_action("reopen", lambda p: {"reason": "回访不满意"})],
    "referrals:withdraw": [page_action("withdraw", lambda p: {"reason": "材料有误，需补充后重新移交"})],
    "referrals:urge": [page_action("urge", lambda p: {"note": "请尽快受理"})],
    "referrals:escalate": [page_action("escalate", lambda p: referral_matrix.escalate_body(p))],
    "referrals:merge": [
        page_action(
            "merge",
            lambda p: {"into": Referral.objects.filter(state="mediating").latest("pk").number, "reason": "重复登记"},
        )
    ],
    "referrals:unmerge": [page_action("unmerge", lambda p: {})],
    "referrals:request_correction": [endpoint("page-request-correction")],
    "referrals:extend_petition": [
        page_action("extend_petition", lambda p: {"days": 30, "reason": "案情复杂", "approved_by_name": "陈国强"})
    ],
    # The notice to the petitioner of the petition clock's extension: whoever sees the referral; none before.
    "referrals:petition_extension_notice": [
        Check(
            "get",
            lambda ctx: reverse("referrals:petition_extension_notice", args=[petition_extended(ctx).pk]),
            row(200, 200, 200, 404, 200, 200, 404, 302),
            content_type="text/html",
            label="extended",
        ),
        Check(
            "get",
            lambda ctx: reverse("referrals:petition_extension_notice", args=[ctx.story.mediating().pk]),
            row(404, 404, 404, 404, 404, 404, 404, 302),
            label="not extended",
        ),
    ],
    # 领导包案: put on a leader's list and taken off again, from the referral page's panel.
    "referrals:assign_leader": [
        Check(
            "post",
            lambda ctx: reverse("referrals:assign_leader", args=[ctx.story.submitted().pk]),
            row(*LEADER_KEEPERS),
            leader_body,
        )
    ],
    "referrals:remove_leader": [
        Check(
            "post",
            lambda ctx: reverse("referrals:remove_leader", args=[on_leader_list(ctx).pk]),
            row(*LEADER_KEEPERS),
            lambda ctx, p: {"reason": "矛盾已化解，调整出包案名单"},
        )
    ],
    # 交办件: recorded from the referral page's panel and reported back from its action bar; the
    # figures' page for anyone signed in; the report as sent to whoever sees the referral.
    "referrals:record_assignment": [
        Check(
            "post",
            lambda ctx: reverse("referrals:record_assignment", args=[ctx.story.submitted().pk]),
            row(*LEADER_KEEPERS),
            assignment_body,
        )
    ],
    "referrals:report_back": [page_action("report_back", lambda p: {"reported_on": day(), "report": "已上报。"})],
    "referrals:assignments": [Check("get", fixed("referrals:assignments"), everyone(200, 302))],
    # 复查复核: the reply recorded by the origin office; requests and answers kept by the office above
    # (江门市信访局, none of the personas: each is refused, or does not see the referral); the page's
    # figures for anyone signed in, its form for petition officers (who are refused here: the 复查 of
    # their own reply is not theirs, said at the form, 400); the opinion to whoever sees the referral.
    "referrals:record_reply": [
        Check(
            "post",
            lambda ctx: reverse("referrals:record_reply", args=[ctx.story.closed().pk]),
            row(302, 302, 403, 404, 403, 403, 404, 302),
            lambda ctx, p: {"delivered_on": timezone.localdate().isoformat()},
        )
    ],
    "referrals:register_appeal": [
        Check(
            "post",
            lambda ctx: reverse("referrals:register_appeal", args=[replied(ctx).pk]),
            row(403, 403, 403, 404, 403, 403, 404, 302),
            appeal_body,
        )
    ],
    "referrals:answer_appeal": [
        Check(
            "post",
            lambda ctx: reverse("referrals:answer_appeal", args=[appealed(ctx).pk]),
            row(403, 403, 403, 404, 403, 403, 404, 302),
            lambda ctx, p: {"outcome": "revoked", "decided_on": timezone.localdate().isoformat(), "opinion": "撤销。"},
        )
    ],
    "referrals:appeals": [Check("get", fixed("referrals:appeals"), everyone(200, 302))],
    "referrals:register_appeal_by_number": [
        Check(
            "post",
            by_number_url("referrals:register_appeal_by_number"),
            row(400, 400, 403, 403, 403, 403, 403, 302),
            by_number,
        )
    ],
    "referrals:appeal_document": [
        Check(
            "get",
            lambda ctx: reverse("referrals:appeal_document", args=[(r := appealed(ctx)).pk, r.appeals.get().pk]),
            row(200, 200, 200, 404, 200, 200, 404, 302),
            content_type="application/pdf",
        )
    ],
    "referrals:assignment_report": [
        Check(
            "get",
            lambda ctx: reverse("referrals:assignment_report", args=[reported_with_file(ctx).pk]),
            row(200, 200, 200, 404, 200, 200, 404, 302),
            content_type="application/pdf",
        )
    ],
    # Lawyers in petition work: the page for anyone signed in; the roster and consultations kept by
    # the petition office's officers and reviewers (403 for everyone else signed in).
    "referrals:case_groups": [
        Check("get", fixed("referrals:case_groups"), everyone(200, 302)),
        Check(
            "post",
            fixed("referrals:case_groups"),
            row(302, 302, 400, 400, 400, 400, 400, 302),
            lambda ctx, p: {"name": "某征地项目", "lead_organisation": ctx.people.petition_office.pk},
        ),
    ],
    "referrals:case_group": [Check("get", group_url("referrals:case_group"), row(*GROUP_READERS))],
    "referrals:add_case_group_member": [
        Check(
            "post",
            group_join_url("referrals:add_case_group_member"),
            row(*GROUP_MANAGERS),
            lambda ctx, p: {"referral": ctx.joining.number},
        )
    ],
    "referrals:remove_case_group_member": [
        Check(
            "post",
            group_url("referrals:remove_case_group_member", member=True),
            row(*GROUP_MANAGERS),
            lambda ctx, p: {"reason": "经核实不属同一问题"},
        )
    ],
    "referrals:add_case_group_note": [
        Check(
            "post",
            group_url("referrals:add_case_group_note"),
            row(*GROUP_MANAGERS),
            lambda ctx, p: {"text": "召开协调会"},
        )
    ],
    "mediation:group_session": [
        Check(
            "post",
            group_url("mediation:group_session"),
            row(403, 403, 302, 404, 403, 403, 404, 302),
            lambda ctx, p: {**group_session_body(ctx, p), "held_on": timezone.localdate().isoformat()},
        )
    ],
    "api-case-groups": [
        Check("get", fixed("api-case-groups"), everyone(200, 401)),
        Check(
            "post",
            fixed("api-case-groups"),
            row(201, 201, 400, 400, 400, 400, 400, 401),
            lambda ctx, p: {"name": "某征地项目", "lead_organisation": ctx.people.petition_office.pk},
        ),
    ],
    "api-case-group-figures": [Check("get", fixed("api-case-group-figures"), everyone(200, 401))],
    "api-case-group": [Check("get", group_url("api-case-group"), row(200, 200, 200, 404, 200, 200, 404, 401))],
    "api-case-group-members": [
        Check(
            "post",
            group_join_url("api-case-group-members"),
            row(201, 201, 403, 404, 403, 403, 404, 401),
            lambda ctx, p: {"referral": ctx.joining.pk},
        )
    ],
    "api-case-group-member": [
        Check(
            "delete",
            group_url("api-case-group-member", member=True),
            row(204, 204, 403, 404, 403, 403, 404, 401),
            lambda ctx, p: {"reason": "经核实不属同一问题"},
        )
    ],
    "api-case-group-notes": [
        Check(
            "post",
            group_url("api-case-group-notes"),
            row(201, 201, 403, 404, 403, 403, 404, 401),
            lambda ctx, p: {"text": "召开协调会"},
        )
    ],
    "api-case-group-sessions": [
        Check(
            "post",
            group_url("api-case-group-sessions"),
            row(403, 403, 201, 404, 403, 403, 404, 401),
            group_session_body,
        )
    ],
    "referrals:lawyers": [Check("get", fixed("referrals:lawyers"), everyone(200, 302))],
    "referrals:add_lawyer": [
        Check("post", fixed("referrals:add_lawyer"), row(302, 302, 403, 403, 403, 403, 403, 302), lawyer_body)
    ],
    "referrals:import_lawyers": [
        Check("post", fixed("referrals:import_lawyers"), row(302, 302, 403, 403, 403, 403, 403, 302), lawyers_file)
    ],
    "referrals:set_lawyer_active": [
        Check(
            "post",
            lambda ctx: reverse("referrals:set_lawyer_active", args=[a_lawyer(ctx).pk]),
            row(302, 302, 404, 404, 403, 403, 404, 302),
            lambda ctx, p: {"active": "0"},
        )
    ],
    "referrals:add_consultation": [
        Check(
            "post",
            fixed("referrals:add_consultation"),
            row(302, 302, 403, 403, 403, 403, 403, 302),
            consultation_body,
        )
    ],
    # Linked referrals, from the referral page's panel.
    "referrals:link_referral": [
        Check(
            "post", link_page_target, row(*LINKERS), lambda ctx, p: {"other": ctx.link_other.number, "kind": "related"}
        )
    ],
    "referrals:unlink_referral": [
        Check(
            "post",
            lambda ctx: unlink_target(ctx, "referrals:unlink_referral"),
            row(*LINKERS),
            lambda ctx, p: {"other": ctx.link_other.pk},
        )
    ],
    # The lists' page: anyone signed in, counting only the referrals they may see.
    "referrals:leader_cases": [Check("get", fixed("referrals:leader_cases"), everyone(200, 302))],
    # The mediation records posted from the referral page's panels, by action name.
    "referrals:record_session": [endpoint("page-session")],
    "referrals:record_agreement_progress": [endpoint("page-progress")],
    "referrals:add_followup": [endpoint("page-followup")],
    "referrals:issue_supervision": [endpoint("page-supervise")],
    "referrals:add_attachment": [endpoint("page-attach")],
    # --- Mediation pages, downloads and prints
    "mediation:update_session": [endpoint("page-session-edit-form"), endpoint("page-session-edit")],
    "mediation:respond_supervision": [endpoint("page-respond")],
    "mediation:attachment": [endpoint("attachment-download", "application/pdf")],
    "mediation:print": [
        *(
            endpoint(f"print-{d}", "text/html")
            for d in (
                "transfer",
                "acceptance",
                "agreement",
                "termination",
                "dossier",
                "register",
                "record",
                "service",
                "supervision",
                "followup",
                "cover",
                "contents",
                "back_cover",
                "volume",
            )
        ),
        Check(
            "get",
            lambda ctx: reverse("mediation:print", args=[ctx.story.submitted().pk, "will"]),
            row(404, 404, 404, 404, 404, 404, 404, 302),
            label="unknown document",
        ),
    ],
    # --- Notification centre
    "notifications:centre": [Check("get", fixed("notifications:centre"), everyone(200, 302))],
    "notifications:read_all": [Check("post", fixed("notifications:read_all"), everyone(302, 302))],
    "notifications:email": [
        Check("post", fixed("notifications:email"), everyone(302, 302), lambda ctx, p: {"enabled": "on"})
    ],
    "notifications:read": [
        Check("post", scene_url("notifications:read", mediator_notification), only({"mediator": 302}, 404, 302))
    ],
    "notifications:open": [
        Check("get", scene_url("notifications:open", mediator_notification), only({"mediator": 302}, 404, 302))
    ],
    # --- A person's own API tokens
    "accounts:tokens": [Check("get", fixed("accounts:tokens"), everyone(200, 302))],
    "accounts:token_revoke": [
        Check(
            "post",
            lambda ctx: reverse("accounts:token_revoke", args=[mediators_other_token(ctx)]),
            only({"mediator": 302}, 404, 302),
        )
    ],
    # --- Roster pages
    "townships:rosters": [Check("get", fixed("townships:rosters"), only(TOWNSHIP_VIEWERS, 403, 302))],
    "townships:import": [Check("get", fixed("townships:import"), only(ROSTER_KEEPERS, 403, 302))],
    "townships:import_detail": [
        Check(
            "get",
            scene_url("townships:import_detail", lambda s: [s.imports["preview"].pk]),
            only(SUPERVISORS_OWN, 404, 302),
        )
    ],
    "townships:import_apply": [
        Check(
            "post",
            scene_url("townships:import_apply", lambda s: [s.imports["preview"].pk]),
            # Rights first (403), then the batch, which is the uploader's own (404 for the city).
            only({"supervisor": 302, "city": 404}, 403, 302),
        )
    ],
    "townships:import_undo": [
        Check(
            "post",
            lambda ctx: reverse("townships:import_undo", args=[applied_roster_import(ctx)]),
            # Rights first (403); then its uploader, or a keeper of every roster it touched (the city).
            only({"supervisor": 302, "city": 302}, 403, 302),
        )
    ],
    # --- API: reference data, referrals
    "api-token": [Check("post", fixed("api-token"), everyone(200, 400), own_credentials)],
    "api-tokens": [Check("get", fixed("api-tokens"), everyone(200, 401))],
    "api-token-detail": [
        Check(
            "delete",
            lambda ctx: reverse("api-token-detail", args=[mediators_other_token(ctx)]),
            only({"mediator": 204}, 404, 401),
        )
    ],
    "api-organisations": [Check("get", fixed("api-organisations"), everyone(200, 401))],
    # The roster page's rule: those who keep or belong to a committee read rosters, nobody else.
    "api-mediators": [
        Check(
            "get",
            fixed("api-mediators"),
            only({"mediator": 200, "other_mediator": 200, "supervisor": 200, "city": 200}, 403, 401),
        )
    ],
    "api-calendar": [Check("get", lambda ctx: reverse("api-calendar") + "?year=2027", everyone(200, 401))],
    "api-referrals": [
        Check("get", fixed("api-referrals"), everyone(200, 401)),
        # tests/referrals/test_permission_matrix.py::test_api_create
        Check(
            "post",
            fixed("api-referrals"),
            row(201, 403, 403, 403, 403, 403, 403, 401),
            lambda ctx, p: {"received_on": day(), "category": "neighbour", "summary": "x"},
        ),
    ],
    "api-referral": [
        api_read("detail", "draft"),
        api_read("detail", "submitted"),
        api_read("detail", "closed"),
        # tests/referrals/test_permission_matrix.py::test_api_edit_a_draft
        Check(
            "patch",
            lambda ctx: reverse("api-referral", args=[ctx.story.draft().pk]),
            row(200, 403, 404, 404, 404, 404, 404, 401),
            lambda ctx, p: {"summary": "更正后的摘要"},
        ),
    ],
    "api-referral-action": [
        *(api_action(case) for case in referral_matrix.ACTION_CASES),
        endpoint("api-succeed"),
        endpoint("api-fail"),
        endpoint("api-request-correction"),
    ],
    "api-referral-timeline": [api_read("timeline", "mediating")],
    "api-referral-leader": [
        Check(
            "post",
            lambda ctx: reverse("api-referral-leader", args=[ctx.story.submitted().pk]),
            row(201, 201, 403, 404, 403, 403, 404, 401),
            leader_body,
        ),
        Check(
            "delete",
            lambda ctx: reverse("api-referral-leader", args=[on_leader_list(ctx).pk]),
            row(204, 204, 403, 404, 403, 403, 404, 401),
            lambda ctx, p: {"reason": "矛盾已化解，调整出包案名单"},
        ),
    ],
    "api-leader-cases": [Check("get", fixed("api-leader-cases"), everyone(200, 401))],
    "api-referral-assignment": [
        Check(
            "post",
            lambda ctx: reverse("api-referral-assignment", args=[ctx.story.submitted().pk]),
            row(200, 200, 403, 404, 403, 403, 404, 401),
            assignment_body,
        )
    ],
    "api-assignments": [Check("get", fixed("api-assignments"), everyone(200, 401))],
    "api-referral-reply": [
        Check(
            "post",
            lambda ctx: reverse("api-referral-reply", args=[ctx.story.closed().pk]),
            row(200, 200, 403, 404, 403, 403, 404, 401),
            lambda ctx, p: {"delivered_on": timezone.localdate().isoformat()},
        )
    ],
    "api-referral-appeals": [
        Check(
            "post",
            lambda ctx: reverse("api-referral-appeals", args=[replied(ctx).pk]),
            row(403, 403, 403, 404, 403, 403, 404, 401),
            appeal_body,
        )
    ],
    "api-referral-appeal-answer": [
        Check(
            "post",
            lambda ctx: reverse("api-referral-appeal-answer", args=[appealed(ctx).pk]),
            row(403, 403, 403, 404, 403, 403, 404, 401),
            lambda ctx, p: {"outcome": "revoked", "decided_on": timezone.localdate().isoformat(), "opinion": "撤销。"},
        )
    ],
    "api-appeals": [
        Check("get", fixed("api-appeals"), everyone(200, 401)),
        Check(
            "post",
            by_number_url("api-appeals"),
            row(403, 403, 403, 404, 403, 403, 404, 401),
            by_number,
        ),
    ],
    "api-referral-links": [
        Check(
            "post",
            link_target,
            row(201, 201, 201, 404, 403, 403, 404, 401),
            lambda ctx, p: {"other": ctx.link_other.pk, "kind": "related"},
        )
    ],
    "api-referral-link": [
        Check(
            "delete",
            lambda ctx: unlink_target(ctx, "api-referral-link"),
            row(204, 204, 204, 404, 403, 403, 404, 401),
        )
    ],
    "api-lawyers": [
        Check("get", fixed("api-lawyers"), everyone(200, 401)),
        Check("post", fixed("api-lawyers"), row(201, 201, 403, 403, 403, 403, 403, 401), lawyer_body),
    ],
    "api-lawyer-import": [
        Check("post", fixed("api-lawyer-import"), row(201, 201, 403, 403, 403, 403, 403, 401), lawyers_file)
    ],
    "api-lawyer": [
        Check(
            "patch",
            lambda ctx: reverse("api-lawyer", args=[a_lawyer(ctx).pk]),
            row(*LAWYER_KEEPERS),
            lambda ctx, p: {"active": False},
        )
    ],
    "api-consultations": [
        Check("get", fixed("api-consultations"), everyone(200, 401)),
        Check(
            "post",
            fixed("api-consultations"),
            row(201, 201, 404, 404, 403, 403, 404, 401),
            consultation_body,
        ),
    ],
    "api-consultation-figures": [Check("get", fixed("api-consultation-figures"), everyone(200, 401))],
    "api-saved-filters": [
        Check("get", fixed("api-saved-filters"), everyone(200, 401)),
        Check(
            "post",
            fixed("api-saved-filters"),
            everyone(201, 401),
            lambda ctx, p: {"name": "本周超期", "query": "overdue=true"},
        ),
    ],
    "api-saved-filter": [
        Check(
            "delete",
            lambda ctx: reverse("api-saved-filter", args=[mediators_saved_filter(ctx)]),
            only({"mediator": 204}, 404, 401),
        )
    ],
    # --- API: mediation records
    "api-sessions": [endpoint("api-sessions-list"), endpoint("api-sessions-add")],
    "api-session": [endpoint("api-session-edit")],
    "api-followups": [endpoint("api-followups-list"), endpoint("api-followups-add")],
    "api-supervisions": [endpoint("api-supervisions-list"), endpoint("api-supervisions-add")],
    "api-supervision-respond": [endpoint("api-supervision-respond")],
    "api-agreement-progress": [endpoint("api-agreement-progress")],
    "api-attachments": [endpoint("api-attachments-list"), endpoint("api-attachments-add")],
    "api-dossier": [endpoint("api-dossier")],
    # --- API: messages to the parties (docs/sms.md): whoever sees the referral reads them; the origin
    # office or the handling committee sends a given-up one again (403: sees it, not theirs).
    "api-messages": [
        Check(
            "get",
            lambda ctx: reverse("api-messages", args=[ctx.story.submitted().pk]),
            row(200, 200, 200, 404, 200, 200, 404, 401),
        )
    ],
    "api-message-resend": [
        Check("post", given_up_message("api-message-resend"), row(200, 200, 200, 404, 403, 403, 404, 401))
    ],
    # The SMS platform's callbacks: its own bearer token (tests/messaging/test_receipts.py); none is
    # set here, so they do not exist for anyone.
    "api-sms-receipts": [Check("post", fixed("api-sms-receipts"), everyone(404, 404))],
    "api-sms-replies": [Check("post", fixed("api-sms-replies"), everyone(404, 404))],
    "messaging:resend": [
        Check("post", given_up_message("messaging:resend"), row(302, 302, 302, 404, 403, 403, 404, 302))
    ],
    # A party's link: the office that registers the case or the committee handling it sends or revokes it.
    "api-party-link": [
        Check("post", party_link_api, row(200, 403, 200, 404, 403, 403, 404, 401)),
        Check("delete", party_link_api_live, row(204, 403, 204, 404, 403, 403, 404, 401)),
    ],
    "messaging:party_link": [Check("post", party_link_page, row(302, 403, 302, 404, 403, 403, 404, 302))],
    # --- The parties' own pages (docs/sms.md): public by design, the same to every visitor; nothing
    # but the code request and the code itself before the code is entered (then 404 for the rest).
    "portal:case": [Check("get", portal_url("portal:case"), everyone(200, 200))],
    "portal:code": [Check("post", portal_url("portal:code"), everyone(302, 302))],
    "portal:verify": [
        Check("post", portal_url("portal:verify"), everyone(302, 302), lambda ctx, p: {"code": "000000"})
    ],
    "portal:consent": [
        Check("post", portal_url("portal:consent"), everyone(404, 404), lambda ctx, p: {"agree": "yes"})
    ],
    "portal:rating": [
        Check("post", portal_url("portal:rating"), everyone(404, 404), lambda ctx, p: {"satisfaction": "satisfied"})
    ],
    "portal:document": [Check("get", portal_document, everyone(404, 404))],
    # --- API: notifications
    "api-notifications": [Check("get", fixed("api-notifications"), everyone(200, 401))],
    "api-notifications-read-all": [Check("post", fixed("api-notifications-read-all"), everyone(200, 401))],
    "api-notification-read": [
        Check("post", scene_url("api-notification-read", mediator_notification), only({"mediator": 200}, 404, 401))
    ],
    # --- API: rosters (tests/townships/test_roster_import_api.py::test_only_roster_keepers_may_import)
    "api-roster-imports": [Check("post", fixed("api-roster-imports"), only(ROSTER_KEEPERS, 403, 401), roster_file)],
    "api-roster-import": [
        Check(
            "get",
            scene_url("api-roster-import", lambda s: [s.imports["preview"].pk]),
            only(SUPERVISORS_OWN, 404, 401),
        )
    ],
    "api-roster-import-apply": [
        Check(
            "post",
            scene_url("api-roster-import-apply", lambda s: [s.imports["preview"].pk]),
            only({"supervisor": 201}, 404, 401),
        )
    ],
    "api-roster-import-undo": [
        Check(
            "post",
            lambda ctx: reverse("api-roster-import-undo", args=[applied_roster_import(ctx)]),
            only({"supervisor": 200, "city": 200}, 404, 401),
        )
    ],
    "api-roster-import-errors": [
        Check(
            "get",
            scene_url("api-roster-import-errors", lambda s: [s.imports["mistakes"].pk]),
            only(SUPERVISORS_OWN, 404, 401),
            content_type=XLSX,
        )
    ],
    "api-roster-template": [
        Check("get", fixed("api-roster-template"), only(ROSTER_KEEPERS, 403, 401), content_type=XLSX)
    ],
    # --- API: exports and statistics (each within what the user may see, masked per persona)
    "api-export-roster": [Check("get", fixed("api-export-roster"), everyone(200, 401), content_type=XLSX)],
    "api-export-referrals": [Check("get", fixed("api-export-referrals"), everyone(200, 401), content_type=XLSX)],
    "api-export-leader-cases": [Check("get", fixed("api-export-leader-cases"), everyone(200, 401), content_type=XLSX)],
    "api-stats-summary": [Check("get", fixed("api-stats-summary"), everyone(200, 401))],
    "api-stats-workbook": [Check("get", fixed("api-stats-workbook"), everyone(200, 401), content_type=XLSX)],
    # --- The API's own description is public: it names operations, never data.
    "api-schema": [Check("get", fixed("api-schema"), everyone(200, 200))],
    "api-docs": [Check("get", fixed("api-docs"), everyone(200, 200))],
}


# Open to anyone by design: what they change (a read-audit entry, a code sent) is theirs to change.
PUBLIC = {"login", "api-schema", "api-docs", "portal:case", "portal:code", "portal:verify"}


def test_every_url_pattern_has_an_entry():
    keys = [key for key, _route in url_patterns()]
    assert len(keys) == len(set(keys)), "two patterns share a name"
    missing = sorted(set(keys) - set(MATRIX))
    assert not missing, f"URL patterns without an entry in MATRIX: {missing}"
    stale = sorted(set(MATRIX) - set(keys))
    assert not stale, f"MATRIX entries for URLs that no longer exist: {stale}"


def test_the_walk_sees_every_app_and_skips_only_the_admin_and_djangos_language_switch():
    routes = dict(url_patterns())
    assert routes["mediation:attachment"] == "referrals/<int:pk>/attachments/<int:aid>/"
    assert routes["api-roster-import-errors"] == "api/roster-imports/<int:pk>/errors.xlsx"
    assert not any(key.startswith("admin:") or key == "set_language" for key in routes)


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_access(people, key):
    ctx = Ctx(people)
    failures = []
    for check in MATRIX[key]:
        url = check.url(ctx)
        page = not url.startswith("/api/")
        clients = {persona: client_for(ctx, persona, page=page) for persona in EVERYONE}
        for persona in EVERYONE:
            expected = check.expected[persona]
            with transaction.atomic():
                before = fingerprint()
                response = send(clients[persona], check.method, url, check.body(ctx, persona), page=page)
                changed = fingerprint() != before
                transaction.set_rollback(True)
            where = f"{check.method.upper()} {url} [{check.label}] as {persona}"
            if response.status_code != expected:
                failures.append(f"{where}: {response.status_code}, expected {expected}")
                continue
            if persona == "anonymous" and page and expected == 302 and key not in PUBLIC:
                assert response["Location"].startswith("/login/"), where
            refused = expected >= 400 or (persona == "anonymous" and key not in PUBLIC)
            if refused and changed:
                failures.append(f"{where}: refused, yet something changed")
            if check.content_type and expected == 200:
                assert response["Content-Type"].startswith(check.content_type), where
    assert not failures, "\n".join(failures)
