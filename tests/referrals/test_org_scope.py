"""An organisation's own figures and queues (``Scope(origin=…)`` / ``Scope(target=…)``) read the
organisation's referrals directly instead of through the visibility union
(``permissions.visible_of_own_organisation``): the set must be exactly the visible one, for every
person and organisation — drafts of other offices, merged referrals and referrals shared in other
ways included."""

from __future__ import annotations

import pytest

from referrals import merging, permissions, workflow
from referrals.stats import Scope
from tests import factories as f
from townships.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db


def test_an_organisations_scope_is_exactly_what_its_people_may_see_of_it(people, story):
    other_office = f.org("台山市信访局")
    other_officer = f.make_user("ts-officer", name="伍小燕", memberships=[(other_office, Role.OFFICER)])
    # Another office's draft and submitted referral to 环市: the committee sees only the second.
    f.make_referral(other_officer, origin=other_office, target=people.huanshi)
    workflow.submit_referral(
        f.make_referral(other_officer, origin=other_office, target=people.huanshi), by=other_officer
    )
    story.draft()
    story.submitted(target=people.taicheng)
    story.mediating()
    duplicate, survivor = story.mediating(), story.submitted()
    merging.merge_referral(duplicate, by=people.officer, into=survivor, reason="重复登记")
    story.closed()

    organisations = list(Organisation.objects.all())
    checked = 0
    for name, user in people.all().items():
        own = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        visible = permissions.referrals_visible_to(user).filter(merged_into__isnull=True)
        for org in organisations:
            for side in ("origin", "target"):
                scope = Scope(user, **{side: org.pk})
                expected = set(visible.filter(**{f"{side}_id": org.pk}).values_list("pk", flat=True))
                assert set(scope.referrals().values_list("pk", flat=True)) == expected, (name, org.name, side)
                shortcut = permissions.visible_of_own_organisation(user, **{side: org.pk})
                # The shortcut is taken for one's own organisations only, and never for anyone else's.
                assert (shortcut is not None) == (org.pk in _viewers(user)), (name, org.name)
                assert shortcut is None or org.pk in own
                checked += shortcut is not None
    assert checked >= 4  # the office's officer and reviewer, each committee's mediator: both sides


def _viewers(user) -> frozenset[int]:
    return permissions.grants_of(user).orgs("view_org_referrals")
