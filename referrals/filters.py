"""The referral list filters, shared by the API, the pages and the ledger export."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from django.db.models import Q, QuerySet
from django.db.models.functions import Reverse
from django.db.models.lookups import StartsWith
from django.utils import timezone
from django.utils.translation import gettext as _

from referrals import repeats
from referrals.models import OPEN_STATES, Party, Referral, State, Tier, due_soon_q, overdue_q
from townships import regions
from townships.categories import Category
from townships.validators import normalise_id_number, to_halfwidth

TRUE = {"1", "true", "yes", "on"}


class FilterError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(errors)


def _int(value: str, field: str, errors: dict) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    # Beyond the database's 64-bit integers the query itself fails (a 500 on SQLite before).
    if number is None or not -(2**63) <= number < 2**63:
        errors[field] = [_("应为数字。")]
        return None
    return number


# A whole ID number or credit code (18 characters): found only whole, never by a part of it.
IDENTIFIER = re.compile(r"[0-9A-Z]{18}")
# What can be a piece of a referral number (JM-2026-000123): letters, digits and hyphens, with a digit.
NUMBER_PIECE = re.compile(r"(?=.*[0-9])[0-9A-Z-]{1,32}")
# A year and a serial without its leading zeros (2026-15), as people say them.
YEAR_SERIAL = re.compile(r"([0-9]{4})-([0-9]{1,5})")
SERIAL_DIGITS = 6


def character_pairs(text: str) -> str:
    """``search_text``'s pieces of two characters, each once, between spaces (" 王大 大明 "): stored
    as ``search_pairs``, where ``search_condition`` looks for a text of two characters.

    A two-character name is the commonest search, and the trigram index cannot serve it: a LIKE
    '%王明%' yields no whole trigram, so PostgreSQL read every visible referral (a second and more
    for a rare name at 10⁶). Looked up as the space-delimited word " 王明 ", it has the padded trigrams
    of a word, which the trigram index on ``search_pairs`` serves (migration 0030). Two characters
    without a space can only stand between spaces where they are a whole piece, so the lookup finds
    exactly the referrals whose ``search_text`` contains them (pieces holding a space never match)."""
    pairs = sorted({text[i : i + 2] for i in range(len(text) - 1)})
    return f" {' '.join(pairs)} " if pairs else ""


def search_condition(text: str) -> Q:
    """What the search box finds (docs/api.md#referrals), within the referrals it is given:

    - a referral number: whole, or any tail of it (「000015」, 「2026-000015」, 「2026-15」 for the
      serial without its zeros) or its head (「JM-2026」): full-width digits and lower case are fine;
    - a petition number (信访件编号) exactly;
    - a party's whole ID number or credit code (18 characters): exact only, and nothing else;
    - any other text: a part of the summary or of a party's name (``search_text``; a text of two
      characters, most often a name, through ``search_pairs``: the same referrals, from an index).

    A tail is matched on the reversed number, which PostgreSQL reads from an index of
    ``reverse(number)`` (migration 0014), so it costs the same at 10⁶ referrals as a whole number.
    """
    text = text.strip()
    key = to_halfwidth(text).upper().replace(" ", "")
    found = Q(number=key) | Q(petition_no=text)
    if IDENTIFIER.fullmatch(key):
        parties = Party.objects.filter(id_number=normalise_id_number(key)).values("referral_id")
        return found | Q(pk__in=parties)
    if NUMBER_PIECE.fullmatch(key):
        tails = {key}
        if match := YEAR_SERIAL.fullmatch(key):
            tails.add(f"{match[1]}-{match[2].zfill(SERIAL_DIGITS)}")
        for tail in sorted(tails):
            found |= StartsWith(Reverse("number"), tail[::-1])
        if key[0].isalpha():
            found |= Q(number__startswith=key)
    if len(text) == 2 and not any(c.isspace() for c in text):
        return found | Q(search_pairs__contains=f" {text} ")
    return found | Q(search_text__contains=text)


def filter_referrals(
    qs: QuerySet[Referral], params: Mapping[str, str], *, visible: QuerySet[Referral] | None = None
) -> QuerySet[Referral]:
    """Apply ``state``, ``category``, ``target``, ``origin``, ``region``, ``overdue``, ``due_soon``,
    ``open``, ``ping_pong``, ``escalated``, ``tier``, ``merged``, ``repeat``, ``from``/``to`` (received),
    ``assigned``/``assigned_batch``/``report`` (交办件), ``appeal``/``appeal_year`` (复查复核), ``figure``
    (the referrals behind statistics figures, ``referrals/stats.py``) and ``search``.

    ``qs`` is what the user may see; ``visible`` the whole of it where ``qs`` is narrower (an area of
    the statistics), so that ``repeat`` finds repeats of any referral the user may open.

    Raises ``FilterError`` (a 400) naming each unknown value rather than silently ignoring it.
    """
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if value := params.get("state"):
        states = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in states if s not in State.values]
        if unknown:
            errors["state"] = [_("未知状态：%s") % ", ".join(unknown)]
        else:
            qs = qs.filter(state__in=states)
    if value := params.get("category"):
        categories = [c.strip() for c in value.split(",") if c.strip()]
        unknown = [c for c in categories if c not in Category.values]
        if unknown:
            errors["category"] = [_("未知纠纷类别：%s") % ", ".join(unknown)]
        else:
            qs = qs.filter(category__in=categories)
    for field in ("target", "origin"):
        if value := params.get(field):
            pk = _int(value, field, errors)
            if pk is not None:
                qs = qs.filter(**{f"{field}_id": pk})
    if value := params.get("region"):
        if not regions.is_code(value):
            errors["region"] = [_("区划代码应为数字。")]
        else:
            qs = qs.filter(regions.within([value]))
    if params.get("open", "").lower() in TRUE:
        qs = qs.filter(state__in=OPEN_STATES)
    if params.get("overdue", "").lower() in TRUE:
        qs = qs.filter(overdue_q(now))
    if params.get("due_soon", "").lower() in TRUE:
        qs = qs.filter(due_soon_q(now))
    if params.get("ping_pong", "").lower() in TRUE:
        qs = qs.filter(ping_pong=True)
    # 合并: a merged referral is left out, as the statistics leave it out (each number and its list
    # agree); ``merged=true`` lists the merged ones alone.
    if params.get("merged", "").lower() in TRUE:
        qs = qs.filter(merged_into__isnull=False)
    else:
        # Said as "not one of the few merged ones" (read from the merged_into index), not as "merged_into
        # IS NULL", which PostgreSQL estimates as every row and then reads the whole table to apply:
        # at 10⁶ referrals the committee's list count went from 134 to 522 ms (BENCHMARKS.md).
        qs = qs.exclude(pk__in=Referral.objects.filter(merged_into__isnull=False).values("pk"))
    if params.get("escalated", "").lower() in TRUE:
        qs = qs.filter(escalated_at__isnull=False)
    if value := params.get("tier"):
        tiers = [t.strip() for t in value.split(",") if t.strip()]
        unknown = [t for t in tiers if t not in Tier.values]
        if unknown:
            errors["tier"] = [_("未知调解层级：%s") % ", ".join(unknown)]
        else:
            qs = qs.filter(tier__in=tiers)
    if params.get("repeat", "").lower() in TRUE:
        qs = qs.filter(repeats.repeat_filter(visible if visible is not None else qs))
    for field, lookup in (("from", "received_on__gte"), ("to", "received_on__lte")):
        if value := params.get(field):
            try:
                qs = qs.filter(**{lookup: datetime.date.fromisoformat(value)})
            except ValueError:
                errors[field] = [_("日期格式应为 YYYY-MM-DD。")]
    # 交办件 (referrals/assignments.py): by the bureau that handed them down, the batch, the report.
    if value := params.get("assigned"):
        from referrals.assignments import filter_condition

        if (condition := filter_condition(value, errors)) is not None:
            qs = qs.filter(condition)
    if value := params.get("assigned_batch", "").strip():
        qs = qs.filter(assignment__batch=value)
    if value := params.get("report"):
        from referrals.assignments import report_condition

        if (condition := report_condition(value.strip(), errors, timezone.localdate(now))) is not None:
            qs = qs.filter(condition)
    # 领导包案 (referrals/leader_cases.py): on an active list entry of that level, or any.
    if value := params.get("leader"):
        from referrals.leader_cases import filter_condition as leader_condition

        if (condition := leader_condition(value, errors)) is not None:
            qs = qs.filter(condition)
    # 复查复核 (referrals/appeals.py): the reply delivered, requests of a kind, by status or outcome.
    if value := params.get("appeal"):
        from referrals.appeals import filter_condition as appeal_condition

        condition = appeal_condition(value, params.get("appeal_year", ""), errors, timezone.localdate(now))
        if condition is not None:
            qs = qs.filter(condition)
    if value := params.get("figure"):
        # The referrals behind a dashboard number, by the statistics' own definition of it.
        from referrals.stats import figure_conditions

        try:
            qs = qs.filter(figure_conditions([k.strip() for k in value.split(",") if k.strip()], now))
        except KeyError as exc:
            errors["figure"] = [_("未知的统计口径：%s") % exc.args[0]]
    if value := params.get("search", "").strip():
        if len(value) > 100:
            errors["search"] = [_("搜索内容过长。")]
        else:
            qs = qs.filter(search_condition(value))
    if errors:
        raise FilterError(errors)
    return qs
