"""Jiangmen reference data: regions, the standard organisations of each level, the calendar.

Idempotent: running it again creates nothing and changes nothing that exists — except calendar
days computed by rule, which a newly published calendar replaces (``load_calendar``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from townships.data import jiangmen

if TYPE_CHECKING:
    from townships.calendar import YearLoad


def load_regions(region_model=None) -> int:
    """Create missing regions; works with a migration's historical model too."""
    if region_model is None:
        from townships.models import Region as region_model
    existing = dict(region_model.objects.values_list("code", "pk"))
    created = 0
    for code, name, level, parent_code, abbreviation in jiangmen.regions():
        if code in existing:
            continue
        region = region_model.objects.create(
            code=code,
            name=name,
            level=level,
            parent_id=existing[parent_code] if parent_code else None,
            abbreviation=abbreviation,
        )
        existing[code] = region.pk
        created += 1
    return created


@transaction.atomic
def load_organisations(organisation_model=None, region_model=None) -> int:
    """A petition office and a justice bureau for the city and each county; a judicial office and a
    township mediation committee for each township (docs/architecture.md#demo-data). Works with a migration's models."""
    from townships.models import Organisation as current_organisation
    from townships.models import Region as current_region

    Organisation = organisation_model or current_organisation
    Region = region_model or current_region
    Kind = current_organisation.Kind
    township_committee = current_organisation.CommitteeType.TOWNSHIP
    created = 0

    def ensure(region, name: str, kind: str, parent, **extra):
        nonlocal created
        org, was_created = Organisation.objects.get_or_create(
            region=region, name=name, defaults={"kind": kind, "parent": parent, **extra}
        )
        created += was_created
        return org

    city = Region.objects.get(code=jiangmen.CITY[0])
    city_petition = ensure(city, f"{city.name}信访局", Kind.PETITION_OFFICE, None)
    city_bureau = ensure(city, f"{city.name}司法局", Kind.JUSTICE_BUREAU, None)
    for county in Region.objects.filter(parent=city, level="county").order_by("code"):
        ensure(county, f"{county.name}信访局", Kind.PETITION_OFFICE, city_petition)
        bureau = ensure(county, f"{county.name}司法局", Kind.JUSTICE_BUREAU, city_bureau)
        for township in Region.objects.filter(parent=county, level="township").order_by("code"):
            office = ensure(township, f"{township.name}司法所", Kind.JUDICIAL_OFFICE, bureau)
            ensure(
                township,
                f"{township.name}人民调解委员会",
                Kind.MEDIATION_COMMITTEE,
                office,
                committee_type=township_committee,
            )
    return created


def load_calendar(years: range) -> list[YearLoad]:
    """The working-day calendar of ``years``: published where chinesecalendar covers a year, else
    computed from the statutory holidays (provisional); see ``townships.calendar.load_year``."""
    from townships.calendar import load_year

    return [load_year(year) for year in years]
