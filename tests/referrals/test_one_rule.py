"""Rules that had copies which disagreed: the page and the API now ask the same home and agree."""

from __future__ import annotations

import pytest

from referrals.models import Referral
from tests import factories as f
from tests.conftest import BAISHA_PJ, api, login

pytestmark = pytest.mark.django_db


def at_the_bureau(people, story) -> Referral:
    return story.submitted(target=people.bureau)


def test_a_bureau_dispatches_only_to_a_committee_of_its_area_on_the_page_and_the_api(people, story):
    from townships.models import Organisation

    centre = Organisation.objects.create(
        name="环市街道综治中心", kind=Organisation.Kind.GOVERNANCE_CENTRE, region=people.huanshi.region
    )
    referral = at_the_bureau(people, story)
    page = login(people.supervisor).get(f"/referrals/{referral.pk}/").content.decode()
    offered = page[page.index('id="id_dispatch_target"') :]
    offered = offered[: offered.index("</select>")]
    assert people.huanshi.name in offered
    assert people.taicheng.name not in offered  # another county
    assert centre.name not in offered and "司法局" not in offered  # not a committee
    # The API refuses what the page does not offer: another county, or a body that is no committee.
    for target in (people.taicheng, f.org("江门市司法局"), centre):
        response = api(people.supervisor).post(
            f"/api/referrals/{referral.pk}/actions/dispatch/", {"target": target.pk}, format="json"
        )
        assert response.status_code == 400, target
        assert "本辖区内的人民调解委员会" in response.json()["errors"]["target"][0]
        response = login(people.supervisor).post(f"/referrals/{referral.pk}/actions/dispatch/", {"target": target.pk})
        assert response.status_code == 400
    ok = api(people.supervisor).post(
        f"/api/referrals/{referral.pk}/actions/dispatch/", {"target": f.committee(BAISHA_PJ).pk}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["target"]["name"] == f.committee(BAISHA_PJ).name


@pytest.mark.parametrize("days", [0, 31, 365])
def test_an_extension_beyond_the_setting_is_refused_alike_on_the_page_and_the_api(people, story, days, settings):
    assert settings.FANGDIAO["EXTENSION_MAX_DAYS"] == 30
    referral = story.mediating()
    body = {"days": days, "reason": "双方同意"}
    response = api(people.mediator).post(
        f"/api/referrals/{referral.pk}/actions/extend/",
        {**body, "consents": f.extension_consents_json(referral)},
        format="json",
    )
    assert response.status_code == 400
    assert "1至30天" in response.json()["errors"]["days"][0]
    page = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/extend/", {**body, **f.extension_consents_form(referral)}
    )
    assert page.status_code == 400 and "1至30天" in page.content.decode()
    referral.refresh_from_db()
    assert referral.extension_days == 0


def test_an_extension_within_the_setting_passes_on_both(people, story):
    referral = story.mediating()
    body = {"days": 30, "reason": "双方同意", "consents": f.extension_consents_json(referral)}
    assert (
        api(people.mediator).post(f"/api/referrals/{referral.pk}/actions/extend/", body, format="json").status_code
        == 200
    )
