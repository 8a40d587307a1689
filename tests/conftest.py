"""Personas and helpers shared by the whole suite.

Reference data (Jiangmen's regions, calendar 2020–2026 and standard organisations) comes from the
migrations, so every test database has it. Personas are the docs/architecture.md#demo-data roles, plus a mediator of
another township and an outsider with no organisation.
"""

from __future__ import annotations

import copy
import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from referrals import workflow
from referrals.models import Referral
from tests import factories as f
from townships import calendar
from townships.models import Mediator, Organisation, Role

# `make test` (and so CI) replays the same generated examples every run: a failure there is then a
# change in the code, not the luck of the draw. `make fuzz` (FUZZ_EXAMPLES set) explores afresh.
hypothesis_settings.register_profile("repeatable", derandomize=True)
if "FUZZ_EXAMPLES" not in os.environ:
    hypothesis_settings.load_profile("repeatable")

PENGJIANG_PETITION = "蓬江区信访局"
PENGJIANG_BUREAU = "蓬江区司法局"
CITY_BUREAU = "江门市司法局"
HUANSHI = "440703006"
TAICHENG = "440781001"
BAISHA_PJ = "440703002"


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # The calendar keeps rows in memory per process; a test that edits CalendarDay rows rolls them
    # back, so the cache must not outlive the test.
    calendar.invalidate()
    yield
    calendar.invalidate()


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def suite_settings() -> dict[str, object]:
    """What every test runs with (fixtures made before a test's own settings use it too)."""
    from django.conf import settings

    return {
        "PASSWORD_HASHERS": list(FAST_HASHERS),
        "ALLOWED_HOSTS": ["testserver", "localhost", "127.0.0.1"],
        "CHANNEL_LAYERS": (
            {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
            if not settings.REDIS_URL
            else settings.CHANNEL_LAYERS
        ),
        "MEDIA_ROOT": str(settings.VAR_DIR / "test-media"),
        # Messages to parties the console backend sends during tests go to the log only, not var/sms.log.
        "SMS_CONSOLE_FILE": "",
    }


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    for name, value in suite_settings().items():
        setattr(settings, name, value)


@dataclass
class Personas:
    officer: object
    reviewer: object
    mediator: object
    other_mediator: object
    supervisor: object
    city: object
    outsider: object
    petition_office: Organisation
    huanshi: Organisation
    taicheng: Organisation
    bureau: Organisation
    lead: Mediator
    second: Mediator
    other_lead: Mediator

    def all(self) -> dict[str, object]:
        return {
            "officer": self.officer,
            "reviewer": self.reviewer,
            "mediator": self.mediator,
            "other_mediator": self.other_mediator,
            "supervisor": self.supervisor,
            "city": self.city,
            "outsider": self.outsider,
        }


def make_personas() -> Personas:
    petition_office = f.org(PENGJIANG_PETITION)
    huanshi = f.committee(HUANSHI)
    taicheng = f.committee(TAICHENG)
    bureau = f.org(PENGJIANG_BUREAU)
    mediator = f.make_user("mediator", name="黄丽华", memberships=[(huanshi, Role.MEDIATOR)])
    other_mediator = f.make_user("mediator2", name="伍志明", memberships=[(taicheng, Role.MEDIATOR)])
    return Personas(
        officer=f.make_user("officer", name="陈晓敏", memberships=[(petition_office, Role.OFFICER)]),
        reviewer=f.make_user("reviewer", name="李国强", memberships=[(petition_office, Role.REVIEWER)]),
        mediator=mediator,
        other_mediator=other_mediator,
        supervisor=f.make_user(
            "supervisor", name="梁建华", memberships=[(bureau, Role.DISPATCHER), (bureau, Role.SUPERVISOR)]
        ),
        city=f.make_user("city", name="张伟", memberships=[(f.org(CITY_BUREAU), Role.SUPERVISOR)]),
        outsider=f.make_user("outsider", name="路人"),
        petition_office=petition_office,
        huanshi=huanshi,
        taicheng=taicheng,
        bureau=bureau,
        lead=f.make_mediator(huanshi, name="黄丽华", user=mediator),
        second=f.make_mediator(huanshi, name="梁明", male=True),
        other_lead=f.make_mediator(taicheng, name="伍志明", male=True, user=other_mediator),
    )


@contextmanager
def kept_for(django_db_blocker):
    """Rows written in the block live until it ends, and are then rolled back: what Django's
    ``TestCase.setUpTestData`` does for a class, here for whatever fixture uses it. Each test's own
    transaction (pytest-django's ``db``) nests inside as a savepoint, so tests still undo their
    own changes."""
    with django_db_blocker.unblock():
        frame = transaction.atomic()
        frame.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            frame.__exit__(None, None, None)


@pytest.fixture(scope="module")
def _module_people(django_db_setup, django_db_blocker) -> Iterator[Personas]:
    # Made once per test module instead of once per test (users, memberships, groups and grants
    # took ~70 ms a test).
    with kept_for(django_db_blocker):
        # Module fixtures are set up before any test's own (``_fast_hasher``): without the suite's
        # settings the passwords were hashed with the default hasher, which the tests' MD5-only
        # setting cannot check, and every login with a password failed (tokens, lockout, the matrix).
        with override_settings(**suite_settings()):
            personas = make_personas()
        yield personas


@pytest.fixture
def people(_module_people: Personas, db) -> Personas:
    """The personas, as a fresh copy per test (a test may change them; the next gets them as made).

    Not for tests that commit (``transaction=True``): those use ``committed_people``.
    """
    return copy.deepcopy(_module_people)


@pytest.fixture
def committed_people(transactional_db) -> Personas:
    return make_personas()


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


class Story:
    """Walk a referral to a given state through the real workflow, as the personas would."""

    def __init__(self, people: Personas) -> None:
        self.p = people

    def draft(self, **overrides) -> Referral:
        overrides.setdefault("target", self.p.huanshi)
        return f.make_referral(self.p.officer, origin=self.p.petition_office, **overrides)

    def submitted(self, **overrides) -> Referral:
        return workflow.submit_referral(self.draft(**overrides), by=self.p.officer)

    def mediating(self, **overrides) -> Referral:
        return workflow.accept_referral(
            self.submitted(**overrides),
            by=self.p.mediator,
            mediators=[self.p.lead, self.p.second],
            rights_explained=True,
        )

    def declined(self, **overrides) -> Referral:
        return workflow.decline_referral(self.submitted(**overrides), by=self.p.mediator, reason="party_refused")

    def with_session(self, **overrides) -> Referral:
        from mediation.workflow import record_session

        referral = self.mediating(**overrides)
        record_session(
            referral,
            by=self.p.mediator,
            held_on=datetime.date.today(),
            location="村委会调解室",
            participants="双方当事人",
            record="听取双方陈述。",
        )
        return referral

    def succeeded(self, *, form: str = "oral", **overrides) -> Referral:
        from mediation.workflow import AgreementInput, succeed_referral

        referral = self.with_session(**overrides)
        agreement = AgreementInput(
            form=form,
            terms="被申请人赔偿500元。",
            performance_method="现金支付",
            performance_due=datetime.date.today() + datetime.timedelta(days=10),
            signed_on=datetime.date.today() if form == "written" else None,
        )
        return succeed_referral(referral, by=self.p.mediator, agreement=agreement)

    def failed(self, **overrides) -> Referral:
        from mediation.workflow import fail_referral

        return fail_referral(
            self.with_session(**overrides),
            by=self.p.mediator,
            reason="views_too_far_apart",
            routes_explained=["litigation"],
        )

    def closable(self, **overrides) -> Referral:
        """Succeeded, with the dossier complete (identity proof uploaded, oral agreement)."""
        from mediation.workflow import add_attachment
        from tests.files import pdf_upload

        referral = self.succeeded(**overrides)
        add_attachment(referral, by=self.p.mediator, kind="identity_proof", upload=pdf_upload())
        return referral

    def closed(self, **overrides) -> Referral:
        return workflow.close_referral(self.closable(**overrides), by=self.p.reviewer, note="同意办结。")

    def at(self, state: str, **overrides) -> Referral:
        return getattr(self, state)(**overrides)


@pytest.fixture
def story(people) -> Story:
    return Story(people)


@pytest.fixture
def committed_story(committed_people) -> Story:
    return Story(committed_people)


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)
