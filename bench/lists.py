"""Referral lists, detail and statistics at scale, per persona, beside the bare SQL of each page.

Runs in-process (Django's test client, the full middleware stack, session and token auth as in
production) against a dataset made by ``bench.dataset``. For each figure: median and p95 over
``--repeat`` calls, the query count, and the time of the page's main query run directly on the
same connection (the reference: what the database alone needs).
"""

from __future__ import annotations

import argparse
import base64
import time

from bench.common import Figure, Section, django_setup, emit, summarise

PERSONAS = {
    "bench-mediator": "镇街调解员 (环市)",
    "bench-county": "区县督导 (蓬江区)",
    "bench-city": "市级督导 (江门市)",
    "bench-officer": "信访部门 (蓬江区信访局)",
}


def cursor_after(pk: int) -> str:
    """A DRF cursor pointing just after ``pk`` in the -id ordering (a deep page)."""
    return base64.b64encode(f"p={pk}".encode("ascii")).decode("ascii")


def main_query(queries: list[dict], marker: str) -> dict | None:
    candidates = [q for q in queries if marker in q["sql"]]
    return max(candidates, key=lambda q: len(q["sql"])) if candidates else None


def run(repeat: int, label: str) -> Section:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from referrals.models import OPEN_STATES, Referral
    from referrals.permissions import referrals_visible_to

    User = get_user_model()
    total = Referral.objects.count()
    section = Section(
        title=f"Lists, detail and statistics — {label}",
        setup=f"{total:,} referrals; in-process requests through the full middleware stack; "
        f"{repeat} timed calls per figure after 2 warm-ups",
    )
    mid = Referral.objects.order_by("pk").values_list("pk", flat=True)[total // 2]
    for username, who in PERSONAS.items():
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        visible = referrals_visible_to(user)
        one = visible.exclude(state="draft").order_by("-pk").values_list("pk", flat=True).first()
        pages = [
            ("API list, first page", "/api/referrals/", "referrals_referral"),
            ("API list, deep cursor page", f"/api/referrals/?cursor={cursor_after(mid)}", "referrals_referral"),
            ("HTML list, first page", "/referrals/", "referrals_referral"),
            (
                "API list, filtered (mediating & overdue)",
                "/api/referrals/?state=mediating&overdue=true",
                "referrals_referral",
            ),
            ("API detail", f"/api/referrals/{one}/", "referrals_referral"),
            ("Statistics summary", "/api/stats/summary/", "GROUP BY"),
        ]
        for title, url, marker in pages:
            # Every persona's summary has the list's budget (docs/architecture.md#performance-budgets).
            summary = title == "Statistics summary"

            def call(url=url, client=client):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code, response.content[:300])
                return response

            seen: list[dict] = []

            def record(execute, sql, params, many, context, seen=seen):
                seen.append({"sql": sql, "params": params})
                return execute(sql, params, many, context)

            # An execute wrapper, not CaptureQueriesContext: each request resets the query log.
            first = time.perf_counter()
            with connection.execute_wrapper(record):
                call()
            # A figure taking seconds (the city's statistics) is as clear from 5 calls as from 20,
            # and 20 of them would cost minutes of the benchmark's 15.
            calls = repeat if time.perf_counter() - first < 1 else min(repeat, 5)
            query = main_query(seen, marker)
            samples = []
            for i in range(calls + 2):
                started = time.perf_counter()
                call()
                if i >= 2:
                    samples.append((time.perf_counter() - started) * 1000)
            median, p95 = summarise(samples)
            figure = Figure(
                name=f"{title} — {who}",
                median=round(median, 1),
                p95=round(p95, 1),
                queries=len(seen),
                budget="p95 ≤ 150 ms (10⁶, PostgreSQL)" if "list" in title or summary else "",
                note=(f"{calls} calls" if calls != repeat else "")
                + ("; where the time goes: docs/statistics.md, Cost" if summary else ""),
            )
            # A list is its main query plus small ones; a summary is a dozen queries none of which
            # dominates, so its reference is all of them run bare, one after another.
            reads = [q for q in seen if q["sql"].lstrip("( ").upper().startswith(("SELECT", "WITH"))]
            bare = reads if summary else [query] if query is not None else []
            if bare:
                ref = []
                with connection.cursor() as cursor:
                    for i in range(calls + 2):
                        started = time.perf_counter()
                        for one in bare:
                            cursor.execute(one["sql"], one["params"])
                            cursor.fetchall()
                        if i >= 2:
                            ref.append((time.perf_counter() - started) * 1000)
                figure.reference_name = (
                    f"its {len(bare)} queries run directly, one after another"
                    if summary
                    else "the page's main query, run directly"
                )
                figure.reference_median = round(summarise(ref)[0], 1)
            # The budget is for PostgreSQL at 10⁶; the SQLite figures show it for comparison only.
            if figure.budget and connection.vendor == "postgresql":
                figure.verdict = "met" if p95 <= 150 else "missed"
            section.figures.append(figure)
        section.figures.extend(name_searches(client, visible, who, repeat))
    # The newest open, submitted one: a draft is its office's own (the city would rightly not be
    # shown it), and a referral closed longer ago than the repeat window is no candidate at all (the
    # dataset's ids do not follow its dates). Its matches are then all earlier referrals, as at
    # registration, and it ranks first among them even when its names are common ones.
    newest = (
        Referral.objects.filter(state__in=OPEN_STATES)
        .exclude(state="draft")
        .order_by("-pk")
        .values_list("pk", flat=True)
    )
    section.figures.append(repeat_check(repeat, newest.first()))
    return section


def name_searches(client, visible, who: str, count: int) -> list[Figure]:
    """Searching for a party by name as people do: ``count`` names, each of a party in a referral
    this user sees, drawn at random — so a name's chance is its frequency, and a common name (陈伟) and
    a rare one both come up. Each name is searched twice: the first time (its rows not yet read by
    this process's earlier calls) and again at once (warm)."""
    from django.db import connection

    from referrals.models import Party

    ids = list(visible.exclude(state="draft").order_by("?").values_list("pk", flat=True)[:count])
    petitioners = Party.objects.filter(referral_id__in=ids, role="petitioner")
    names = list(dict(petitioners.values_list("referral_id", "name")).values())
    first: list[float] = []
    again: list[float] = []
    for name in names:
        for samples in (first, again):
            started = time.perf_counter()
            response = client.get("/api/referrals/", {"search": name})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and response.json()["results"], (name, response.status_code)
    matches = Party.objects.filter(name__in=names).count()
    figures = []
    for label, samples in (("first search of each name", first), ("the same names again", again)):
        median, p95 = summarise(samples)
        figure = Figure(
            name=f"API list, search by party name, {len(names)} names drawn by frequency, {label} — {who}",
            median=round(median, 1),
            p95=round(p95, 1),
            budget="p95 ≤ 150 ms (10⁶, PostgreSQL)",
            note=f"the names are held by {matches:,} parties in all; the slowest: {max(samples):.0f} ms",
        )
        if connection.vendor == "postgresql":
            figure.verdict = "met" if p95 <= 150 else "missed"
        figures.append(figure)
    return figures


def repeat_check(repeat: int, pk: int) -> Figure:
    """The repeat check a new draft runs on its parties (referrals/repeats.py), as the city sees it:
    the widest visibility, so the most candidates to filter. The parties are those of the newest
    referral, so that every earlier referral about them is a candidate."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from referrals import repeats
    from referrals.models import Party

    user = get_user_model().objects.get(username="bench-city")
    parties = list(Party.objects.filter(referral_id=pk))
    seen: list[dict] = []

    def record(execute, sql, params, many, context):
        seen.append({"sql": sql})
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        found = repeats.find(parties, user=user)
    assert any(m.referral.pk == pk for m in found), "the repeat check missed the referral the parties came from"
    samples = []
    for i in range(repeat + 2):
        started = time.perf_counter()
        repeats.find(parties, user=user)
        if i >= 2:
            samples.append((time.perf_counter() - started) * 1000)
    median, p95 = summarise(samples)
    figure = Figure(
        name=f"Repeat check of a new draft's {len(parties)} parties — 市级督导 (江门市)",
        median=round(median, 1),
        p95=round(p95, 1),
        queries=len(seen),
        budget="p95 ≤ 50 ms (10⁶, PostgreSQL)",
        note=f"{len(found)} matches",
    )
    if connection.vendor == "postgresql":
        figure.verdict = "met" if p95 <= 50 else "missed"
    return figure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    django_setup()
    emit({"section": run(args.repeat, args.label)})


if __name__ == "__main__":
    main()
