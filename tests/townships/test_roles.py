import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from referrals.permissions import forget_grants, grants_of
from tests import factories as f
from townships.models import Membership, Role
from townships.roles import group_name, load_grants

pytestmark = pytest.mark.django_db


def test_a_membership_puts_the_person_in_the_organisations_role_group_with_its_grants():
    office = f.org("蓬江区信访局")
    user = f.make_user(memberships=[(office, Role.OFFICER)])
    assert list(user.groups.values_list("name", flat=True)) == [group_name(office.pk, Role.OFFICER)]
    grants = load_grants(user)
    assert grants.orgs("refer_from") == {office.pk}
    assert grants.orgs("view_org_referrals") == {office.pk}
    assert grants.orgs("review_for") == frozenset()
    assert user.has_perm("townships.refer_from", office)  # guardian agrees
    assert not user.has_perm("townships.refer_from", f.org("江海区信访局"))


def test_removing_or_changing_a_membership_takes_the_grant_away():
    office = f.org("蓬江区信访局")
    user = f.make_user(memberships=[(office, Role.OFFICER)])
    membership = Membership.objects.get(user=user)
    membership.role = Role.REVIEWER
    membership.save()
    grants = load_grants(user)
    assert grants.orgs("review_for") == {office.pk}
    assert grants.orgs("refer_from") == frozenset()
    membership.delete()
    assert load_grants(user).empty
    assert not user.groups.exists()


def test_supervisors_are_granted_their_bureaus_region_and_city_supervisors_the_whole_city():
    county = f.make_user(memberships=[(f.org("蓬江区司法局"), Role.SUPERVISOR)])
    city = f.make_user(memberships=[(f.org("江门市司法局"), Role.SUPERVISOR)])
    assert load_grants(county).region_codes("supervise_region") == ("440703",)
    assert load_grants(city).covers("supervise_region", "440781103")
    assert not load_grants(county).covers("supervise_region", "440781103")


def test_one_group_per_organisation_and_role_however_many_members():
    office = f.org("蓬江区信访局")
    for _ in range(5):
        f.make_user(memberships=[(office, Role.OFFICER)])
    assert Group.objects.filter(name=group_name(office.pk, Role.OFFICER)).count() == 1
    assert Group.objects.get(name=group_name(office.pk, Role.OFFICER)).user_set.count() == 5


def test_a_role_foreign_to_the_organisation_kind_is_refused():
    membership = Membership(user=f.make_user(), organisation=f.org("蓬江区信访局"), role=Role.MEDIATOR)
    with pytest.raises(ValidationError) as exc:
        membership.full_clean()
    assert "信访干部" in str(exc.value)


def test_grants_are_read_once_per_request_object(django_assert_num_queries):
    user = f.make_user(memberships=[(f.org("蓬江区信访局"), Role.OFFICER)])
    forget_grants(user)
    with django_assert_num_queries(2):
        grants_of(user)
        grants_of(user)


def test_an_inactive_organisation_grants_nothing():
    office = f.org("蓬江区信访局")
    user = f.make_user(memberships=[(office, Role.OFFICER)])
    office.active = False
    office.save()
    assert load_grants(user).orgs("refer_from") == frozenset()
