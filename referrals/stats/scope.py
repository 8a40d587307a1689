"""Scope: whose referrals a set of figures counts, where and when."""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import (
    Q,
    QuerySet,
)
from django.utils.translation import gettext as _

from referrals.filters import FilterError, filter_referrals
from referrals.models import Referral
from referrals.permissions import (
    ReaderView,
    grants_of,
    reader_view,
    referrals_visible_in_area,
    supervises_area,
    visible_of_own_organisation,
)
from townships import regions
from townships.models import Region

# --- Scope: whose referrals, where, when ----------------------------------------------------


class ScopeInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(errors)


class ScopeForbidden(PermissionError):
    pass


@dataclass(frozen=True)
class Scope:
    """The referrals a set of figures counts: the user's visible ones, narrowed like the list."""

    user: Any
    region: Region | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    target: int | None = None
    origin: int | None = None
    category: str | None = None
    state: str | None = None  # comma-separated states (dashboards: "what waits for me")

    def params(self) -> dict[str, str]:
        """The referral-list filters of this scope (the base of every link)."""
        params = {
            "region": self.region.code if self.region else None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "target": str(self.target) if self.target else None,
            "origin": str(self.origin) if self.origin else None,
            "category": self.category,
            "state": self.state,
        }
        return {k: v for k, v in params.items() if v}

    def referrals(self) -> QuerySet[Referral]:
        # The area as a range on the indexed column (and, for a supervisor over their own area,
        # without the general visibility OR that no index can serve): at 10⁶ referrals a county's
        # figures read its share of the table instead of all of it.
        params = {k: v for k, v in self.params().items() if k != "region"}
        # An organisation's own queue likewise reads its own index, without the visibility union.
        own = None if self.region else visible_of_own_organisation(self.user, origin=self.origin, target=self.target)
        # And all that a person sees, when no area narrows it, from the indexes too.
        if own is None and self._reader is not None:
            own = self._reader.referrals(referred_only=self._referred_only)
        visible = own if own is not None else referrals_visible_in_area(self.user, self.area())
        # A merged referral counts nowhere (``filter_referrals`` leaves it out, as from the lists).
        return filter_referrals(visible, params).order_by()

    def area(self) -> tuple[str, ...]:
        """The region(s) the figures cover: the one asked for, else (for a supervisor's picture,
        not an organisation's queue) the regions they supervise; () means "all I can see"."""
        if self.region:
            return (self.region.code,)
        if self.target or self.origin:
            return ()
        return self.supervised_codes()

    def supervised_codes(self) -> tuple[str, ...]:
        """Region codes whose every referral the user sees (supervision or routing grants)."""
        return self._supervised

    @cached_property
    def _supervised(self) -> tuple[str, ...]:
        # cached_property writes to the instance __dict__ directly, which a frozen dataclass allows.
        if self.user.is_superuser:
            return tuple(Region.objects.filter(parent__isnull=True).values_list("code", flat=True))
        g = grants_of(self.user)
        return tuple(sorted(set(g.region_codes("supervise_region")) | set(g.region_codes("route_region"))))

    @cached_property
    def _reader(self) -> ReaderView | None:
        return reader_view(self.user) if not self.area() else None

    def uses_rollup(self) -> bool:
        """Whether the running totals answer this scope exactly: whole months, no filter the totals
        do not keep (target, state), and an area the user supervises in full, or what an office
        registered (``registered_only``) or an organisation was referred (``referred_only``): the
        cells are kept per registering office and per receiving organisation."""
        whole_months = (self.date_from is None or self.date_from.day == 1) and (
            self.date_to is None or self.date_to == month_end(self.date_to)
        )
        if not whole_months or self.target is not None or self.state:
            return False
        if self.area():
            return supervises_area(self.user, self.area())
        return self._reader is not None and (self._reader.registered_only or self._referred_only)

    @cached_property
    def _referred_only(self) -> bool:
        return self._reader is not None and self._reader.referred_only()

    def _own_offices(self) -> frozenset[int]:
        return frozenset() if self.user.is_superuser else grants_of(self.user).orgs("view_org_referrals")

    def whose_cells(self) -> Q:
        """The running-totals cells of this scope's area (a superuser's: every region), or of what
        one's own organisations registered (``registered_only``) or were referred
        (``referred_only``), of the office asked for: all the scope picks of a table keyed by region
        and organisations only (``DurationCell``), which holds no drafts. Only meaningful when
        ``uses_rollup()``."""
        if self.area():
            q = regions.within(self.area(), field="area")
        elif self._referred_only:
            q = Q(receiver__in=self._own_offices())
        else:
            q = Q(origin_id__in=self._own_offices())
        if self.origin:
            q &= Q(origin_id=self.origin)
        return q

    def cells(self) -> Q:
        """The running-totals cells of this scope (any cell table keyed like ``StatsCell``); only
        meaningful when ``uses_rollup()``."""
        q = self.whose_cells()
        if not self.user.is_superuser:
            q &= Q(draft=False) | Q(origin_id__in=self._own_offices())
        if self.date_from:
            q &= Q(month__gte=self.date_from)
        if self.date_to:
            q &= Q(month__lte=self.date_to)
        if self.category:
            q &= Q(category=self.category)
        return q

    def with_params(self, **changes) -> Scope:
        return dataclasses.replace(self, **changes)


SCOPE_PARAMS = ("region", "from", "to", "target", "origin", "category")


def parse_scope(user, params: Mapping[str, str]) -> Scope:
    """A ``Scope`` from query parameters, validated like the list's filters.

    Raises ``ScopeInvalid`` (a 400, naming each bad parameter) or ``ScopeForbidden`` (a 403) for a
    region outside what the user supervises. A user without a regional grant (a petition office,
    a committee) may narrow their own referrals by any region: what they cannot see is not counted.
    """
    given = {k: params.get(k, "").strip() for k in SCOPE_PARAMS}
    given = {k: v for k, v in given.items() if v}
    errors: dict[str, list[str]] = {}
    try:
        filter_referrals(Referral.objects.none(), given)
    except FilterError as exc:
        errors.update(exc.errors)
    region = None
    if "region" in given and "region" not in errors:
        region = Region.objects.filter(code=given["region"]).first()
        if region is None:
            errors["region"] = [_("未知的区划代码：%s") % given["region"]]
    date_from = _date(given.get("from")) if "from" not in errors else None
    date_to = _date(given.get("to")) if "to" not in errors else None
    if date_from and date_to and date_from > date_to:
        errors["to"] = [_("结束日期不能早于开始日期。")]
    if errors:
        raise ScopeInvalid(errors)
    scope = Scope(
        user=user,
        region=region,
        date_from=date_from,
        date_to=date_to,
        target=int(given["target"]) if "target" in given else None,
        origin=int(given["origin"]) if "origin" in given else None,
        category=given.get("category"),
    )
    if region is not None and not user.is_superuser:
        supervised = scope.supervised_codes()
        if supervised and not regions.contained_in_any(region.code, supervised):
            raise ScopeForbidden(_("%s 不在您督导的区域内。") % region.name)
    return scope


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    out, current = [], first.replace(day=1)
    while current <= last:
        out.append(current)
        if current.year == datetime.MAXYEAR and current.month == 12:
            break  # a period may end on 9999-12-31; there is no month after it
        current = (
            current.replace(year=current.year + 1, month=1)
            if current.month == 12
            else current.replace(month=current.month + 1)
        )
    return out


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])
