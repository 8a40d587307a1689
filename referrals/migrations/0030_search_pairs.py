"""``Referral.search_pairs``: the two-character pieces of ``search_text`` (``filters.character_pairs``),
with a trigram index on PostgreSQL, so that a two-character search (a name) is read from an index.

Filled in SQL on PostgreSQL, in Python elsewhere, in batches of referrals each committed on its
own: one UPDATE of every referral would hold every row locked until it ends (minutes at 10⁶, most of
an hour at 10⁷: docs/scaling.md), and a workflow step on any referral would wait for it. The index is
built CONCURRENTLY for the same reason; hence this migration is not atomic.
"""

from django.db import migrations, models

BATCH = 2000
SQL_BATCH = 20_000

FILL_SQL = """
UPDATE referrals_referral r SET search_pairs = coalesce(
    (SELECT ' ' || string_agg(p, ' ' ORDER BY p) || ' '
       FROM (SELECT DISTINCT substr(r.search_text, i, 2) AS p
               FROM generate_series(1, length(r.search_text) - 1) AS i) AS pieces),
    '')
WHERE r.id >= %s AND r.id < %s
"""


def character_pairs(text: str) -> str:
    # referrals.filters.character_pairs as this migration was written (a migration keeps its own copy).
    pairs = sorted({text[i : i + 2] for i in range(len(text) - 1)})
    return f" {' '.join(pairs)} " if pairs else ""


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM referrals_referral")
            (last,) = cursor.fetchone()
            for start in range(1, last + 1, SQL_BATCH):
                cursor.execute(FILL_SQL, [start, start + SQL_BATCH])
        return
    Referral = apps.get_model("referrals", "Referral")
    batch = []
    for referral in Referral.objects.only("pk", "search_text").iterator(chunk_size=BATCH):
        referral.search_pairs = character_pairs(referral.search_text)
        batch.append(referral)
        if len(batch) == BATCH:
            Referral.objects.bulk_update(batch, ["search_pairs"])
            batch = []
    Referral.objects.bulk_update(batch, ["search_pairs"])


def index(apps, schema_editor):
    """Where pg_trgm is missing (migration 0005 says why it may be), searching still works by scanning."""
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import DatabaseError

    try:
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS referral_search_pairs_trgm ON referrals_referral "
            "USING gin (search_pairs gin_trgm_ops)"
        )
    except DatabaseError as exc:
        print(f"\n  (no trigram index for two-character search: {exc}".rstrip() + ")")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS referral_search_pairs_trgm")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("referrals", "0029_origin_index_covers_queues")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="search_pairs",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(index, drop_index),
    ]
