"""Where a roster row belongs: its county, township and committee, looked up in memory.

A township is found under its county, by code or by name with or without its suffix — never by name
alone: there are two 白沙 (蓬江区白沙街道 and 台山市白沙镇). A township's own committee may be left
unnamed and is created if missing; village and trade committees must be named as registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from townships.models import Organisation, Region, strip_township_suffix
from townships.validators import clean_text, to_halfwidth


@dataclass
class CommitteeRef:
    """A committee as the importer sees it; ``pk`` is None for a township committee still to create."""

    pk: int | None
    name: str
    region_code: str
    active: bool = True
    township_code: str = ""
    # Fixed when the ref is made: a committee created halfway through an apply keeps its identity.
    ident: str = ""

    def __post_init__(self) -> None:
        self.ident = self.ident or (f"pk:{self.pk}" if self.pk is not None else f"new:{self.township_code}")

    @property
    def is_new(self) -> bool:
        return self.ident.startswith("new:")


@dataclass
class Place:
    code: str
    name: str
    short: str
    pk: int


SUFFIX_ALIASES = {"街": "街道", "街道办事处": "街道"}
_COMMITTEE_SUFFIX = re.compile(r"(人民调解委员会|调解委员会|调委会)$")


def committee_core(name: str) -> str:
    """环市街道人民调解委员会 → 环市街道; 北郊社区调委会 → 北郊社区."""
    return _COMMITTEE_SUFFIX.sub("", to_halfwidth(clean_text(name)).replace(" ", ""))


class Directory:
    """Counties, townships and committees, read once (two queries) and looked up without queries."""

    def __init__(self) -> None:
        self.counties: dict[str, Place] = {}
        self.county_names: dict[str, Place] = {}
        self.townships: dict[str, Place] = {}
        self.townships_in: dict[str, dict[str, list[Place]]] = {}
        for pk, code, name, level in Region.objects.filter(
            level__in=(Region.Level.COUNTY, Region.Level.TOWNSHIP)
        ).values_list("pk", "code", "name", "level"):
            if level == Region.Level.COUNTY:
                place = Place(code, name, re.sub(r"(区|市|县)$", "", name) if len(name) > 2 else name, pk)
                self.counties[code] = place
                self.county_names[name] = place
                self.county_names[place.short] = place
            else:
                place = Place(code, name, strip_township_suffix(name), pk)
                self.townships[code] = place
                names = self.townships_in.setdefault(code[:6], {})
                for key in {name, place.short}:
                    names.setdefault(key, []).append(place)
        self.committees_by_region: dict[str, list[CommitteeRef]] = {}
        self.township_committee: dict[str, CommitteeRef] = {}
        rows = Organisation.objects.filter(kind=Organisation.Kind.MEDIATION_COMMITTEE).values_list(
            "pk", "name", "region__code", "committee_type", "active"
        )
        for pk, name, code, committee_type, active in rows:
            ref = CommitteeRef(pk=pk, name=name, region_code=code, active=active, township_code=code[:9])
            self.committees_by_region.setdefault(code, []).append(ref)
            if len(code) == 9 and code in self.townships:
                standard = f"{self.townships[code].name}人民调解委员会"
                current = self.township_committee.get(code)
                if committee_type == Organisation.CommitteeType.TOWNSHIP and (current is None or name == standard):
                    self.township_committee[code] = ref

    # Counties ---------------------------------------------------------------------------------

    def county(self, value: str) -> Place | None:
        text = to_halfwidth(value).replace(" ", "")
        if text.isdigit():
            code = text[:6] if len(text) == 12 and text.endswith("000000") else text
            return self.counties.get(code)
        for prefix in ("广东省", "江门市"):
            text = text.removeprefix(prefix)
        return self.county_names.get(text)

    # Townships --------------------------------------------------------------------------------

    def township(self, county: Place | None, value: str) -> tuple[Place | None, str]:
        """The township named ``value`` under ``county``; or None and the reason in Chinese."""
        text = to_halfwidth(value).replace(" ", "")
        if text.isdigit():
            code = text[:9] if len(text) == 12 and text.endswith("000") else text
            if len(code) == 3 and county is not None:
                code = county.code + code
            place = self.townships.get(code)
            if place is None:
                return None, _("没有区划代码为 %s 的镇(街)。") % text
            if county is not None and not code.startswith(county.code):
                return None, _("镇(街)代码 %(code)s 不属于%(county)s。") % {"code": text, "county": county.name}
            return place, ""
        if county is None:
            # "台山市白沙镇" carries its county; a bare "白沙" does not (蓬江区 and 台山市 both have one).
            for candidate in self.counties.values():
                for prefix in (candidate.name, candidate.short):
                    if text.startswith(prefix) and len(text) > len(prefix):
                        place, _reason = self.township(candidate, text[len(prefix) :])
                        if place is not None:
                            return place, ""
            return None, _("请填写县(市、区)：同名的镇(街)（如蓬江区白沙街道与台山市白沙镇）要靠它区分。")
        names = self.townships_in.get(county.code, {})
        # "蓬江区环市街道" carries its county again; strip it only when what is left is a township.
        for candidate in dict.fromkeys([text, self._without_places(text, county)]):
            found = self._township_named(names, candidate)
            if found is not None:
                return found, ""
        return None, _("%(county)s下没有名为“%(name)s”的镇(街)。") % {"county": county.name, "name": value}

    @staticmethod
    def _township_named(names: dict[str, list[Place]], text: str) -> Place | None:
        if len(names.get(text) or []) == 1:
            return names[text][0]
        short = strip_township_suffix(text)
        if short == text:
            return None
        # A suffix was written: it must be the township's own (环市街 or 环市街道办事处 for 环市街道 is
        # fine; 白沙镇 is not 蓬江区的白沙街道 — more likely 台山市白沙镇 with the wrong county).
        written = SUFFIX_ALIASES.get(text[len(short) :], text[len(short) :])
        candidates = [p for p in names.get(short) or [] if p.name.endswith(written)]
        return candidates[0] if len(candidates) == 1 else None

    # Committees -------------------------------------------------------------------------------

    def committee(self, county: Place | None, township: Place | None, name: str) -> tuple[CommitteeRef | None, str]:
        if township is not None:
            if not name or strip_township_suffix(self._without_places(committee_core(name), county)) in (
                township.short,
                "",
            ):
                ref = self.township_committee.get(township.code)
                if ref is None:
                    ref = CommitteeRef(
                        pk=None,
                        name=f"{township.name}人民调解委员会",
                        region_code=township.code,
                        township_code=township.code,
                    )
                    self.township_committee[township.code] = ref
                return ref, ""
            scope = township.code
        elif county is not None and name:
            scope = county.code
        else:
            return None, ""
        core = committee_core(name)
        found = [
            ref
            for code, refs in self.committees_by_region.items()
            if code.startswith(scope)
            for ref in refs
            if ref.name == name or committee_core(ref.name) == core
        ]
        if len(found) == 1:
            return found[0], ""
        where = township.name if township is not None else county.name if county is not None else ""
        if not found:
            return None, _(
                "%(where)s没有名为“%(name)s”的调委会。只有镇(街)调委会会自动建立，村(居)和行业性专业性调委会请先由管理员登记。"
            ) % {"where": where, "name": name}
        return None, _("%(where)s有多个名为“%(name)s”的调委会，请填写完整名称。") % {"where": where, "name": name}

    def _without_places(self, core: str, county: Place | None) -> str:
        for prefix in ("广东省", "江门市", *((county.name, county.short) if county else ())):
            if core.startswith(prefix) and len(core) > len(prefix):
                core = core[len(prefix) :]
        return core


# (column key, message, code) of what is wrong with a row's place; code "forbidden" for a roster
# the user may not keep.
Problem = tuple[str, str, str]


class CommitteeFinder:
    """The committee each row names, resolved once per distinct (county, township, committee).

    ``scope`` is the user's ``roster_scope`` (None: everywhere); ``default`` receives the rows of a
    file without county/township columns (a single committee's own list).
    """

    def __init__(self, directory: Directory, *, scope: tuple[str, ...] | None, default: CommitteeRef | None) -> None:
        self.directory = directory
        self.scope = scope
        self.default = default
        # A roster repeats the same few places thousands of times: resolve each combination once.
        self._found: dict[tuple[str, str, str], tuple[CommitteeRef | None, Problem | None]] = {}

    def find(self, county: str, township: str, committee: str) -> tuple[CommitteeRef | None, Problem | None]:
        key = (county, township, committee)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._resolve(county, township, committee)
        return found

    def _resolve(self, county_text: str, township_text: str, committee_text: str):
        if not county_text and not township_text and not committee_text:
            if self.default is not None:
                return self._allowed("township", self.default)
            return None, ("township", _("请填写县(市、区)和镇(街)。"), "invalid")
        county = None
        if county_text:
            county = self.directory.county(county_text)
            if county is None:
                return None, ("county", _("江门市没有名为“%s”的县(市、区)。") % county_text, "invalid")
        township = None
        if township_text:
            township, reason = self.directory.township(county, township_text)
            if township is None:
                return None, ("county" if county is None else "township", reason, "invalid")
            if county is None:
                county = self.directory.counties.get(township.code[:6])
        elif not committee_text or county is None:
            return None, ("township", _("请填写镇(街)。"), "invalid")
        ref, reason = self.directory.committee(county, township, committee_text)
        if ref is None:
            return None, ("committee", reason or _("请填写镇(街)或调委会名称。"), "invalid")
        if not ref.active:
            return None, ("committee", _("调委会“%s”已停用，不能导入调解员。") % ref.name, "invalid")
        return self._allowed("committee" if committee_text else "township", ref)

    def _allowed(self, key: str, ref: CommitteeRef) -> tuple[CommitteeRef | None, Problem | None]:
        if self.scope is not None and not any(ref.region_code.startswith(code) for code in self.scope):
            return None, (key, _("您无权维护“%s”的花名册。") % ref.name, "forbidden")
        return ref, None
