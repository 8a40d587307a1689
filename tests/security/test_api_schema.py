"""Schemathesis against ``/api/schema/``: generated requests as every persona, in-process (WSGI).

The schema is the one the app serves (drf-spectacular), loaded through the WSGI application so that
the requests run against the pytest-django test database. Each persona calls every operation with
valid (positive) and invalid (negative) generated requests; path ids are drawn from the scene's real
objects as often as generated, so that the requests reach the handlers and not only the 404 path.

Checked on every response: no 5xx; the status code is documented for the operation; the content
type and the body match what the schema documents for that status.

Size: ``FUZZ_EXAMPLES // 8`` examples per operation, persona and mode (3 in ``make test``, 250
under ``make fuzz``). The counts are printed (``-s``) and recorded in docs/security.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from urllib.parse import urlsplit

import pytest
import schemathesis
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from referrals.registry import registry
from tests.security.conftest import EVERYONE, Scene

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = max(2, int(os.environ.get("FUZZ_EXAMPLES", "24")) // 8)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROUTING_CHECKS = [not_a_server_error, status_code_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
MISSING_ID = 987_654_321


@pytest.fixture(autouse=True)
def _quiet_request_log():
    # Thousands of 4xx answers and failed logins are the point here; each would log a warning.
    loggers = [logging.getLogger(name) for name in ("django.request", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The requests go through the WSGI handler, which (unlike Django's test client) closes "old"
    connections at each request's start and end. Inside the test's transaction that would close the
    connection holding it (PostgreSQL; SQLite ignores it), so switch it off as the test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    from config.wsgi import application

    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def known_path_values(path: str, scene: Scene) -> dict[str, list]:
    """Real ids for the path's parameters, by what the path is about."""
    if path.startswith("/api/notifications/"):
        ids = scene.notification_ids
    elif path.startswith("/api/roster-imports/"):
        ids = [r.pk for r in scene.imports.values()]
    else:
        ids = scene.referral_ids
    values: dict[str, list] = {"id": [*ids, MISSING_ID]}
    if "/sessions/" in path:
        values["sid"] = [scene.session.pk, MISSING_ID]
    elif "/supervisions/" in path:
        values["sid"] = [scene.order, MISSING_ID]
    values["action"] = [*(a.name for a in registry.actions()), "approve"]
    return values


def fixed_path_parameters(operation, scene: Scene):
    """For each path parameter: a real value, or (None) one schemathesis generates."""
    names = [p.name for p in operation.path_parameters]
    known = known_path_values(operation.path, scene)
    per_name = {name: st.one_of(st.none(), st.sampled_from(known[name])) for name in names if name in known}
    return st.fixed_dictionaries(per_name).map(lambda d: {k: v for k, v in d.items() if v is not None})


def routed(response) -> bool:
    """False for a path no URL pattern matches (``/api/referrals/-1/``: ids are ``<int:pk>``).

    Django answers those with its HTML 404 page, not the API's JSON error: open bug (A) below.
    """
    if response.status_code != 404:
        return True
    try:
        resolve(urlsplit(response.request.url).path)
    except Resolver404:
        return False
    return True


def authorization(scene: Scene, persona: str) -> dict[str, str]:
    return {} if persona == "anonymous" else {"Authorization": f"Token {scene.tokens[persona]}"}


def exercise(operation, mode, scene: Scene, headers: dict, tried: Counter, failures: dict) -> None:
    strategy = fixed_path_parameters(operation, scene).flatmap(
        lambda fixed: operation.as_strategy(generation_mode=mode, path_parameters=fixed)
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        response = case.call(headers=headers)
        tried[operation.label] += 1
        checks = CHECKS if routed(response) else ROUTING_CHECKS
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, type(failure).__name__, response.status_code)
                failures.setdefault(
                    key, f"{failure.title}: {failure.message}\n  {case.as_curl_command()}\n  {response.text[:300]}"
                )

    with contextlib.suppress(Unsatisfiable):  # nothing negative to say about an operation without input
        run()


@pytest.mark.parametrize("persona", EVERYONE)
def test_generated_requests_get_documented_answers_and_never_a_server_error(api_schema, scene, persona):
    headers = authorization(scene, persona)
    tried: Counter = Counter()
    failures: dict = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        for mode in MODES:
            exercise(operation, mode, scene, headers, tried, failures)
    print(f"\nschemathesis as {persona}: {sum(tried.values())} requests over {len(tried)} operations")
    assert set(tried) == {op.label for op in operations}, "every operation was called"
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in sorted(failures.items()))
