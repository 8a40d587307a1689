import pytest

from townships.models import Organisation, Region, strip_township_suffix

pytestmark = pytest.mark.django_db


def test_it_has_the_city_seven_counties_and_73_townships():
    assert Region.objects.get(code="4407").name == "江门市"
    assert Region.objects.filter(level="county", parent__code="4407").count() == 7
    assert Region.objects.filter(level="township").count() == 73
    assert Region.objects.filter(level="township", code__startswith="440781").count() == 17  # 台山市


def test_it_tells_the_two_baisha_apart_by_county():
    baisha = Region.objects.filter(name__startswith="白沙").order_by("code")
    assert [(r.code, r.name, r.parent.name) for r in baisha] == [
        ("440703002", "白沙街道", "蓬江区"),
        ("440781103", "白沙镇", "台山市"),
    ]
    assert [r.full_name() for r in baisha] == ["蓬江区白沙街道", "台山市白沙镇"]


def test_township_codes_nest_under_their_county():
    for township in Region.objects.filter(level="township").select_related("parent"):
        assert township.code.startswith(township.parent.code)
        assert len(township.code) == 9


def test_each_township_has_a_committee_and_a_judicial_office_and_each_county_a_bureau_and_petition_office():
    assert Organisation.objects.filter(kind="mediation_committee", region__level="township").count() == 73
    assert Organisation.objects.filter(kind="judicial_office").count() == 73
    assert Organisation.objects.filter(kind="justice_bureau").count() == 8
    assert Organisation.objects.filter(kind="petition_office").count() == 8


@pytest.mark.parametrize(
    ("name", "short"),
    [("环市街道", "环市"), ("环市街", "环市"), ("环市", "环市"), ("棠下镇", "棠下"), ("街道", "街道")],
)
def test_township_names_match_with_or_without_their_suffix(name, short):
    assert strip_township_suffix(name) == short


def test_region_containment_follows_the_code_prefix():
    county = Region.objects.get(code="440703")
    assert county.contains("440703006")
    assert not county.contains("440781103")
    assert Region.objects.within("440703").filter(level="township").count() == 6
