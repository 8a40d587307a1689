"""Region codes: the one place that knows how NBS statistical codes nest.

A code names a region and, by its length, its level: 2 digits a province (44), 4 a city (4407),
6 a county (440703), 9 a township (440703006), 12 a village. A region contains exactly the regions
whose codes start with its own, so "in this region" is a prefix test — and in the database a range
on an indexed column (``within``), which a plain B-tree index serves where ``LIKE 'code%'`` may not.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

PROVINCE, CITY, COUNTY, TOWNSHIP = 2, 4, 6, 9
LEVELS = (PROVINCE, CITY, COUNTY, TOWNSHIP, 12)


def _part(code: str, length: int) -> str:
    return code[:length] if len(code) >= length else ""


def province_of(code: str) -> str:
    return _part(code, PROVINCE)


def city_of(code: str) -> str:
    """The city's code (4407 for anything in Jiangmen), or "" for a province."""
    return _part(code, CITY)


def county_of(code: str) -> str:
    return _part(code, COUNTY)


def township_of(code: str) -> str:
    return _part(code, TOWNSHIP)


def level_of(code: str) -> int:
    """The level of a code: ``PROVINCE``, ``CITY``, ``COUNTY``, ``TOWNSHIP`` or 12 (a village)."""
    return len(code)


def ancestors(code: str) -> list[str]:
    """This code and the codes of every region above it, nearest first."""
    return [code[:n] for n in reversed(LEVELS) if n <= len(code)]


def contains(outer: str, inner: str) -> bool:
    return bool(outer) and inner.startswith(outer)


def contained_in_any(code: str, outers: Iterable[str]) -> bool:
    return any(contains(outer, code) for outer in outers)


def same_city(a: str, b: str) -> bool:
    return bool(city_of(a)) and city_of(a) == city_of(b)


def within(codes: Iterable[str], *, field: str = "region_code") -> Q:
    """Rows whose ``field`` is under any of these codes, as index-friendly ranges.

    [code, code + "A") holds exactly the codes that start with ``code``: digits sort before letters in
    every collation. No codes: nothing.
    """
    match = Q(pk__in=[])
    for code in codes:
        match |= Q(**{f"{field}__gte": code, f"{field}__lt": code + "A"})
    return match


def is_code(text: str) -> bool:
    """Whether ``text`` can be a region code (or a prefix of one), as typed in a filter."""
    return text.isdigit() and len(text) <= 12
