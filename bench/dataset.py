"""A bulk-generated referral dataset shaped like production, for the benchmarks.

``python -m bench.dataset --n 1000000`` (with DATABASE_URL set, or SQLite under VAR_DIR) fills the
database with N referrals over Jiangmen's 73 townships and the realistic category mix, in every
state, with parties, timeline events, handlings, mediators, agreements, terminations and follow-ups,
and with stored deadlines computed by the real rules. Permissions are as in production: people are
members of organisations, their groups hold the guardian grants, no per-referral rows.

PostgreSQL is filled with COPY, SQLite with executemany. Running it again with the same N reuses
what is there.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import random
import time
from collections.abc import Iterable

from bench.common import django_setup, emit

STATE_MIX = [
    ("closed", 0.55),
    ("mediating", 0.12),
    ("succeeded", 0.07),
    ("failed", 0.04),
    ("submitted", 0.08),
    ("declined", 0.04),
    ("draft", 0.10),
]
# Party names with the shape of real ones: surnames roughly in their order of frequency in Jiangmen,
# given names of one or two characters, both drawn with Zipf-like weights. At 10⁶ referrals this gives
# about 230,000 distinct names, half of them held by 3 parties or fewer, and a head as heavy as a
# real city's (陈伟 about 0.4 % of all parties): a search benchmark then meets both a rare name and a
# very common one, as a counter does. (The first datasets drew from 493 names, each ~4,500 times.)
SURNAMES = (
    "陈李黄张梁林刘吴伍谭何周邓冯赵罗关麦胡叶区余郑朱杨蔡许苏卢徐谢曾彭钟"
    "潘马容温甘司汤莫蒋钱孙高丁方袁严施廖邱江洪唐沈韩萧程宋杜戴夏范金邝阮"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲国志建文辉家嘉"
    "欣少锦惠美振宇淑贞海燕永红豪健荣德宏俊斌峰婷雪梅兰凤玉珍萍丹晓春"
)
SURNAME_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(SURNAMES))))
GIVEN_WEIGHTS = list(itertools.accumulate(1 / (rank + 1) ** 0.6 for rank in range(len(GIVEN))))


def person_name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, cum_weights=SURNAME_WEIGHTS)[0]
    return surname + "".join(rng.choices(GIVEN, cum_weights=GIVEN_WEIGHTS, k=1 if rng.random() < 0.3 else 2))


PERSONAS = {
    "bench-mediator": ("环市街道人民调解委员会", "440703006", "mediator"),
    "bench-county": ("蓬江区司法局", "440703", "supervisor"),
    "bench-city": ("江门市司法局", "4407", "supervisor"),
    "bench-officer": ("蓬江区信访局", "440703", "officer"),
    "bench-reviewer": ("蓬江区信访局", "440703", "reviewer"),
}


def ensure_people() -> dict:
    from django.contrib.auth import get_user_model

    from townships.models import Mediator, Membership, Organisation
    from townships.validators import make_id_number

    User = get_user_model()
    people = {}
    for username, (org_name, code, role) in PERSONAS.items():
        user, _ = User.objects.get_or_create(username=username, defaults={"first_name": username})
        org = Organisation.objects.get(name=org_name, region__code=code)
        Membership.objects.get_or_create(user=user, organisation=org, role=role)
        people[username] = user
    officers = {}
    for office in Organisation.objects.filter(kind="petition_office", region__level="county"):
        user, _ = User.objects.get_or_create(username=f"bench-officer-{office.region.code}")
        Membership.objects.get_or_create(user=user, organisation=office, role="officer")
        officers[office.region.code] = (user.pk, office.pk)
    mediators = {}
    for i, committee in enumerate(Organisation.objects.filter(kind="mediation_committee").select_related("region")):
        entry = Mediator.objects.filter(committee=committee).order_by("pk").first()
        if entry is None:
            entry = Mediator.objects.create(
                committee=committee,
                name=f"调解员{i}",
                sex="F",
                id_number=make_id_number(committee.region.code, datetime.date(1970, 1, 1), 2 * i, male=False),
                mobile=f"139{i:08d}",
                position="chair",
                employment="full_time",
            )
        mediators[committee.pk] = entry.pk
    mediator_entry = Mediator.objects.filter(committee__region__code="440703006").first()
    if not Mediator.objects.filter(user=people["bench-mediator"]).exists():
        mediator_entry.user = people["bench-mediator"]
        mediator_entry.save(update_fields=["user"])
    return {"officers": officers, "mediators": mediators, "people": {k: v.pk for k, v in people.items()}}


class Writer:
    """Collects model rows (by column) and writes them in large batches.

    Values are converted once per field kind rather than through each field's generic
    ``get_db_prep_save`` (a million referrals have fifty million values).
    """

    def __init__(self, model, *, batch: int = 20000) -> None:
        from django.db import connection

        self.model = model
        self.connection = connection
        self.fields = [f for f in model._meta.concrete_fields if not f.generated]  # the database computes those
        self.columns = [f.column for f in self.fields]
        self.postgres = connection.vendor == "postgresql"
        self.converters = [self._converter(f) for f in self.fields]
        # Django's own default for a column not given: "" for a text field without one (a blank
        # CharField added later must not break the dataset), None for the rest.
        self.defaults = [f.get_default() for f in self.fields]
        self.rows: list[tuple] = []
        self.batch = batch
        self.count = 0

    def _converter(self, field):
        from django.db import models

        if isinstance(field, models.JSONField):
            return lambda v, f=field: f.get_db_prep_save(v, self.connection)
        if self.postgres:
            return None  # psycopg adapts dates, times, decimals and booleans itself
        if isinstance(field, models.DateTimeField):
            return lambda v: v.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ") if v else None
        if isinstance(field, models.DateField):
            return lambda v: v.isoformat() if v else None
        if isinstance(field, models.DecimalField):
            return lambda v: None if v is None else str(v)
        return None

    def add(self, **values) -> None:
        row = []
        for f, convert, default in zip(self.fields, self.converters, self.defaults, strict=True):
            value = values.get(f.attname, default)
            row.append(convert(value) if convert is not None and value is not None else value)
        self.rows.append(tuple(row))
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        table = self.model._meta.db_table
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', self.rows)
        self.count += len(self.rows)
        self.rows = []


def _choose_state(rng: random.Random) -> str:
    x = rng.random()
    acc = 0.0
    for state, share in STATE_MIX:
        acc += share
        if x < acc:
            return state
    return "closed"


def born(rng: random.Random) -> datetime.date:
    return datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randint(0, 15000))


def at(day: datetime.date, hour: int) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


# Each referral's rows get ids from fixed ranges, so slices can be written by parallel processes.
EVENTS_PER_REFERRAL = 8


def _slice(start: int, stop: int, context: dict, *, seed: int) -> dict[str, int]:
    """Write referrals with index start ≤ i < stop (ids i + 1) and their rows, in one transaction."""
    from types import SimpleNamespace

    from django.db import transaction
    from django.utils import timezone

    from mediation.models import Agreement, FollowUp, Termination
    from referrals.deadlines import compute_deadline, petition_due
    from referrals.filters import character_pairs
    from referrals.models import Exclusion, Handling, Party, Referral, TimelineEvent
    from townships.categories import REALISTIC_MIX
    from townships.models import Organisation
    from townships.validators import make_id_number

    rng = random.Random(seed * 1_000_003 + start)
    committees = list(Organisation.objects.filter(kind="mediation_committee").select_related("region"))
    categories, weights = list(REALISTIC_MIX), list(REALISTIC_MIX.values())
    today = timezone.localdate()
    now = timezone.now()
    exclusions = list(Exclusion.values)
    m2m = Referral.mediators.through
    writers = {
        model: Writer(model)
        for model in (Referral, Party, TimelineEvent, Handling, Agreement, Termination, FollowUp, m2m)
    }
    with transaction.atomic():
        for i in range(start, stop):
            rid = i + 1
            committee = committees[rng.randrange(len(committees))]
            county = committee.region.code[:6]
            officer_id, office_id = context["officers"][county]
            state = _choose_state(rng)
            received = today - datetime.timedelta(days=rng.randint(0, 1400 if state == "closed" else 75))
            # At times of day, as people work: the durations between (the medians') are not whole days.
            submitted = at(received + datetime.timedelta(days=rng.randint(0, 2)), 9)
            submitted += datetime.timedelta(minutes=rng.randint(0, 480))
            accepted = min(submitted + datetime.timedelta(days=rng.randint(0, 3), minutes=rng.randint(30, 1440)), now)
            concluded = min(accepted + datetime.timedelta(days=rng.randint(5, 40), minutes=rng.randint(0, 480)), now)
            closed = min(concluded + datetime.timedelta(days=rng.randint(1, 6)), now)
            names = [person_name(rng), person_name(rng)]
            r = SimpleNamespace(
                id=rid,
                number=f"BM-{received.year}-{rid:07d}",
                petition_no=f"BENCH{rid:07d}",
                received_on=received,
                category=rng.choices(categories, weights)[0],
                summary=f"第{rid}号：相邻两户因排水沟堵塞发生争执，多次争吵。",
                claims="请求疏通排水沟并赔偿损失。",
                origin_id=office_id,
                target_id=committee.pk,
                region_id=committee.region_id,
                region_code=committee.region.code,
                created_by_id=officer_id,
                state=state,
                scope_ground="civil_between_citizens",
                exclusions_absent=exclusions,
                lead_mediator_id=None,
                rights_explained=False,
                submitted_at=None,
                accepted_at=None,
                concluded_at=None,
                closed_at=None,
                stage_started_at=None,
                mediation_started_at=None,
                round=0,
                returns_count=0,
                ping_pong=False,
                repeat_of_id=None,
                merged_into_id=None,
                outcome="",
                accepted_on_time=None,
                concluded_on_time=None,
                suspended_since=None,
                extension_days=0,
                review_note="",
                created_at=at(received, 9),
                updated_at=now,
                is_suspended=False,
            )
            r.search_text = " ".join([r.summary, *names])
            r.search_pairs = character_pairs(r.search_text)
            events = [("create", "", "draft", r.created_at)]
            if state != "draft":
                r.submitted_at = r.stage_started_at = submitted
                events.append(("submit", "draft", "submitted", submitted))
            if state == "declined":
                r.returns_count = 1 + (rng.random() < 0.1)
                r.ping_pong = r.returns_count >= 2
                r.stage_started_at = accepted
                events.append(("decline", "submitted", "declined", accepted))
            if state in ("mediating", "succeeded", "failed", "closed"):
                r.accepted_at = r.mediation_started_at = r.stage_started_at = accepted
                r.round = 1
                r.rights_explained = True
                r.accepted_on_time = rng.random() < 0.9
                r.lead_mediator_id = context["mediators"][committee.pk]
                events.append(("accept", "submitted", "mediating", accepted))
                writers[m2m].add(id=rid, referral_id=rid, mediator_id=r.lead_mediator_id)
            outcome = None
            if state in ("succeeded", "failed", "closed"):
                outcome = "failed" if state == "failed" or (state == "closed" and rng.random() < 0.25) else "succeeded"
                r.concluded_at = r.stage_started_at = concluded
                r.outcome = "agreement" if outcome == "succeeded" else "terminated"
                r.concluded_on_time = rng.random() < 0.85
                events.append(("succeed" if outcome == "succeeded" else "fail", "mediating", outcome, concluded))
                if outcome == "succeeded":
                    written = rng.random() < 0.8
                    writers[Agreement].add(
                        id=rid,
                        referral_id=rid,
                        region_code=r.region_code,
                        round=1,
                        form="written" if written else "oral",
                        terms="被申请人支付补偿款。",
                        amount=rng.choice([0, 500, 1200, 3000, 8000]),
                        performance_method="现金支付",
                        performance_place="",
                        performance_due=concluded.date(),
                        signed_on=concluded.date() if written else None,
                        effective_on=concluded.date(),
                        performance=rng.choice(["performed", "performed", "partly", "pending"]),
                        confirmation_court="",
                        confirmation_result="",
                        created_by_id=officer_id,
                        created_at=concluded,
                    )
                else:
                    writers[Termination].add(
                        id=rid,
                        referral_id=rid,
                        round=1,
                        reason="views_too_far_apart",
                        note="",
                        routes_explained=["litigation"],
                        no_session_note="",
                        created_by_id=officer_id,
                        created_at=concluded,
                    )
            if state == "closed":
                r.closed_at = r.stage_started_at = closed
                r.review_note = "同意办结。"
                events.append(("close", outcome, "closed", closed))
                if rng.random() < 0.5:
                    writers[FollowUp].add(
                        id=rid,
                        referral_id=rid,
                        region_code=r.region_code,
                        visited_on=closed.date(),
                        method="phone",
                        satisfaction=rng.choice(["satisfied", "satisfied", "basically_satisfied", "dissatisfied"]),
                        performance="",
                        note="",
                        by_id=officer_id,
                        organisation_id=office_id,
                        created_at=closed,
                    )
            # The stored deadline, by the real rules (referrals/deadlines.py).
            deadline = compute_deadline(r, suspensions=())
            petition = petition_due(r)
            writers[Referral].add(
                **{k: v for k, v in vars(r).items() if k != "is_suspended"},
                deadline_kind=deadline.kind,
                deadline_started_on=deadline.started_on,
                due_on=deadline.due_on,
                due_at=deadline.due_at,
                due_soon_at=deadline.due_soon_at,
                deadline_provisional=deadline.provisional,
                petition_due_on=petition.date,
                petition_provisional=petition.provisional,
            )
            for k, role in enumerate(("petitioner", "respondent")):
                writers[Party].add(
                    id=2 * i + k + 1,
                    referral_id=rid,
                    role=role,
                    kind="person",
                    name=names[k],
                    id_number=make_id_number(county, born(rng), rng.randint(0, 998), male=rng.random() < 0.5),
                    phone=f"13{rng.randint(0, 999999999):09d}",
                    address=f"江门市建设路{rng.randint(1, 300)}号",
                    consent_given_on=received,
                    consent_method="written",
                    position=k,
                )
            for j, (action, before, after, moment) in enumerate(events):
                writers[TimelineEvent].add(
                    id=EVENTS_PER_REFERRAL * i + j + 1,
                    referral_id=rid,
                    at=moment,
                    actor_id=officer_id,
                    action=action,
                    from_state=before,
                    to_state=after,
                    note="",
                    data={},
                )
            if state != "draft":
                result = {"submitted": "pending", "declined": "declined"}.get(state, "accepted")
                writers[Handling].add(
                    id=rid,
                    referral_id=rid,
                    organisation_id=committee.pk,
                    started_at=submitted,
                    ended_at=None if result == "pending" else accepted,
                    result=result,
                )
        # Referrals first: the other tables point at them.
        writers[Referral].flush()
        for writer in writers.values():
            writer.flush()
    return {model.__name__: writer.count for model, writer in writers.items()}


def drop_secondary_indexes(tables: list[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint; return their definitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [tables],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def generate(n: int, *, seed: int = 4407, workers: int = 1) -> dict:
    """Grow the dataset to ``n`` referrals (``workers`` processes write slices in parallel)."""
    import subprocess
    import sys

    from django.core.management.color import no_style
    from django.db import connection

    from mediation.models import Agreement, FollowUp, Termination
    from referrals.models import Handling, Party, Referral, TimelineEvent

    existing = Referral.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    context = ensure_people()
    if existing >= n:
        return {"created": 0, "total": Referral.objects.count(), "seconds": 0.0}
    started = time.perf_counter()
    tables = [
        m._meta.db_table
        for m in (
            Referral,
            Party,
            TimelineEvent,
            Handling,
            Agreement,
            Termination,
            FollowUp,
            Referral.mediators.through,
        )
    ]
    # Loading into bare tables and building their indexes afterwards is several times faster than
    # maintaining a dozen indexes (one of them a trigram index) row by row.
    saved = drop_secondary_indexes(tables) if connection.vendor == "postgresql" else []
    if workers > 1 and connection.vendor == "postgresql":
        step = -(-(n - existing) // workers)
        bounds = [(a, min(a + step, n)) for a in range(existing, n, step)]
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.dataset", "--slice", str(a), str(b), "--seed", str(seed)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for a, b in bounds
        ]
        rows: dict[str, int] = {}
        for child in children:
            out, _ = child.communicate()
            if child.returncode != 0:
                raise RuntimeError("a dataset slice failed")
            for k, v in json.loads(out.strip().splitlines()[-1]).items():
                rows[k] = rows.get(k, 0) + v
    else:
        rows = _slice(existing, n, context, seed=seed)
    m2m = Referral.mediators.through
    with connection.cursor() as cursor:
        for definition in saved:
            cursor.execute(definition)
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Referral, Party, TimelineEvent, Handling, Agreement, Termination, FollowUp, m2m]
        ):
            cursor.execute(sql)
        # The statistics cells are kept by the workflow, which a bulk load bypasses: count them afresh.
        from referrals import rollup

        rollup.rebuild()
        # VACUUM as well: it marks the pages all-visible, which index-only scans rely on (autovacuum
        # would, later).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"created": n - existing, "total": n, "seconds": round(time.perf_counter() - started, 1), "rows": rows}


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--slice", type=int, nargs=2)
    parser.add_argument("--seed", type=int, default=4407)
    args = parser.parse_args(argv)
    django_setup()
    if args.slice:
        emit(_slice(args.slice[0], args.slice[1], ensure_people(), seed=args.seed))
    else:
        emit(generate(args.n, seed=args.seed, workers=args.workers))


if __name__ == "__main__":
    main()
