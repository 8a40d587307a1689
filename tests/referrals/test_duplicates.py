"""The repeat check (referrals/repeats.py): earlier referrals about the same people are shown to those
who may see them — a warning, not a block — and never named to anyone else."""

import datetime

import pytest
from django.core.cache import cache

from core.models import AccessLog
from referrals import intake, repeats, workflow
from referrals.models import Party, Referral
from tests import factories as f
from tests.conftest import api, login

pytestmark = pytest.mark.django_db

TAISHAN_PETITION = "台山市信访局"


def same_people(first, **changes) -> list[intake.PartyInput]:
    return [
        intake.PartyInput(
            role=p.role,
            kind=p.kind,
            name=p.name,
            id_number=p.id_number,
            phone=p.phone,
            consent_given_on=p.consent_given_on,
            consent_method=p.consent_method,
            **changes,
        )
        for p in first.parties.all()
    ]


@pytest.fixture(autouse=True)
def _forget_repeat_hints():
    """Forget the hint answers and allowances of earlier tests. Only those keys: clear() on Redis
    is FLUSHDB, which would also wipe what another xdist worker or the CI run keeps in that database."""
    client = getattr(cache, "_cache", None)
    if client is None or not hasattr(client, "get_client"):
        cache.clear()  # the in-memory cache is this process's own
        return
    redis = client.get_client(write=True)
    for key in redis.scan_iter(match=cache.make_key("repeat-hint*")):
        redis.delete(key)


def test_the_same_petitioner_is_flagged_as_a_repeat_and_warned_about(people, story):
    first = story.submitted()
    second = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(first)
    )
    assert second.repeat_of == first
    assert [m.referral for m in repeats.find(second.parties.all(), user=people.officer, exclude=second.pk)] == [first]
    page = login(people.officer).get(f"/referrals/{second.pk}/").content.decode()
    assert "可能重复" in page and first.number in page and "双方当事人相同" in page
    # Only a warning: the officer may still submit.
    assert workflow.submit_referral(second, by=people.officer).state == "submitted"


def test_the_same_pair_of_names_without_ids_is_also_a_repeat(people, story):
    first = story.submitted()
    names = [
        intake.PartyInput(
            role=p.role,
            kind=p.kind,
            name=p.name,
            phone=f"1390000{i:04d}",
            consent_given_on=p.consent_given_on,
            consent_method=p.consent_method,
        )
        for i, p in enumerate(first.parties.all())
    ]
    second = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi, parties=names)
    assert second.repeat_of == first


def test_namesakes_with_different_id_numbers_are_not_the_same_people(people, story):
    # Every factory referral is between 王大明 and 李小红, each time with other ID numbers and phones.
    story.submitted()
    assert story.draft().repeat_of is None


def test_different_people_are_not_repeats(people, story):
    stranger = story.draft()
    assert stranger.repeat_of is None
    assert Party.objects.filter(referral=stranger).count() == 2


def test_a_petitioner_whose_case_closed_last_month_is_flagged_again(people, story, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 10, tzinfo=datetime.UTC))
    closed = story.closed()
    time_machine.move_to(datetime.datetime(2026, 4, 2, 10, tzinfo=datetime.UTC))
    again = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(closed)
    )
    assert again.repeat_of == closed
    body = api(people.officer).get(f"/api/referrals/{again.pk}/").json()
    assert body["repeat_of"] == closed.pk
    assert body["possible_repeats"] == [
        {
            "id": closed.pk,
            "number": closed.number,
            "state": "closed",
            "kind": "same_dispute",
            "concluded_on": closed.concluded_at.date().isoformat(),
        }
    ]
    # Beyond the window (12 months) a closed case no longer counts.
    time_machine.move_to(datetime.datetime(2027, 5, 2, 10, tzinfo=datetime.UTC))
    later = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(closed)
    )
    assert later.repeat_of is not None and later.repeat_of != closed  # `again` is still open


def test_the_same_petitioner_in_another_dispute_is_a_same_person_match(people, story):
    first = story.submitted()
    petitioner = next(p for p in same_people(first) if p.role == Party.Role.PETITIONER)
    # Born elsewhere: the factories' ID numbers repeat every 500 referrals, and a respondent sharing the
    # petitioner's number would make this the same dispute.
    other = f.person(Party.Role.RESPONDENT, "赵六", serial=9001, region="440781")
    second = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=[petitioner, other]
    )
    body = api(people.officer).get(f"/api/referrals/{second.pk}/").json()
    assert [(m["id"], m["kind"]) for m in body["possible_repeats"]] == [(first.pk, "same_person")]


# --- What may not be seen is never named ---------------------------------------------------------


@pytest.fixture
def foreign(people):
    """A Taishan referral (another county's office, another committee) about some people."""
    office = f.org(TAISHAN_PETITION)
    officer = f.make_user("ts_officer", memberships=[(office, "officer")])
    referral = f.make_referral(
        officer, origin=office, target=people.taicheng, summary="台城某村两户因宅基地界址发生争执。"
    )
    return workflow.submit_referral(referral, by=officer)


def test_an_officer_cannot_learn_another_countys_case_by_typing_its_parties(people, foreign):
    assert api(people.officer).get(f"/api/referrals/{foreign.pk}/").status_code == 404
    draft = f.make_referral(
        people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(foreign)
    )
    # Not stored, not in the API, not on the page: no number, state, text or id.
    assert draft.repeat_of is None
    body = api(people.officer).get(f"/api/referrals/{draft.pk}/").json()
    assert body["repeat_of"] is None and body["possible_repeats"] == []
    assert str(foreign.pk) not in str(body["possible_repeats"])
    page = login(people.officer).get(f"/referrals/{draft.pk}/").content.decode()
    assert foreign.number not in page and foreign.summary[:10] not in page
    assert f"/referrals/{foreign.pk}/" not in page
    # At most the unnamed hint, written to the read audit.
    assert "相同当事人在其他单位可能有在办事项" in page
    entry = AccessLog.objects.get(action=AccessLog.Action.REPEAT_HINT)
    assert entry.user == people.officer and entry.referral_id == draft.pk


def test_the_hint_is_not_given_for_names_alone(people, foreign):
    names_only = same_people(foreign, address="")
    for p in names_only:
        p.id_number = ""
        p.phone = f"13700{p.name.encode().hex()[:6]}"[:11]
    draft = f.make_referral(people.officer, origin=people.petition_office, target=people.huanshi, parties=names_only)
    page = login(people.officer).get(f"/referrals/{draft.pk}/").content.decode()
    assert "其他单位可能有在办事项" not in page


def test_the_hint_allowance_runs_out_and_then_says_nothing_either_way(people, foreign, settings):
    settings.FANGDIAO = {**settings.FANGDIAO, "REPEAT_HINTS_PER_DAY": 2}
    client = login(people.officer)
    seen = []
    for _ in range(3):
        draft = f.make_referral(
            people.officer, origin=people.petition_office, target=people.huanshi, parties=same_people(foreign)
        )
        page = client.get(f"/referrals/{draft.pk}/").content.decode()
        seen.append("其他单位可能有在办事项" in page)
        # Looking again at the same draft costs nothing.
        client.get(f"/referrals/{draft.pk}/")
    assert seen == [True, True, False]
    assert "今日外单位重复核查次数已用完" in page


def test_the_receiving_committee_never_sees_a_repeat_it_may_not_open(people, story, foreign):
    # The Taishan office registers the same people again and refers them to Huanshi this time: the
    # Huanshi committee, which has only the new referral, must not learn of the earlier one through it.
    office = f.org(TAISHAN_PETITION)
    officer = foreign.created_by
    again = f.make_referral(officer, origin=office, target=people.huanshi, parties=same_people(foreign))
    assert again.repeat_of == foreign  # visible to the Taishan office that registered both
    workflow.submit_referral(again, by=officer)
    body = api(people.mediator).get(f"/api/referrals/{again.pk}/").json()
    assert body["repeat_of"] is None and body["possible_repeats"] == []
    listed = api(people.mediator).get("/api/referrals/").json()["results"]
    assert [r["repeat_of"] for r in listed if r["id"] == again.pk] == [None]
    page = login(people.mediator).get(f"/referrals/{again.pk}/").content.decode()
    assert foreign.number not in page and "此前已有相同当事人" not in page
    # The Taishan office still sees its own link.
    assert api(officer).get(f"/api/referrals/{again.pk}/").json()["repeat_of"] == foreign.pk


def test_the_check_reads_the_parties_through_indexes_in_a_fixed_number_of_queries(
    people, story, django_assert_max_num_queries
):
    first = story.submitted()
    parties = same_people(first)
    with django_assert_max_num_queries(3):  # same dispute, same person, the visible ones
        found = repeats.find(parties, user=people.officer, visible=Referral.objects.all())
    assert [m.referral for m in found] == [first]


def test_the_lists_flag_and_filter_repeats_only_of_referrals_the_viewer_may_open(people, story, foreign):
    # The stored link points at a Taishan referral the Huanshi committee may not open: its list must
    # neither mark the new referral 重复件 nor find it under ?repeat=true — either would tell the
    # committee that the same people have a case elsewhere.
    office = f.org(TAISHAN_PETITION)
    officer = foreign.created_by
    again = f.make_referral(officer, origin=office, target=people.huanshi, parties=same_people(foreign))
    workflow.submit_referral(again, by=officer)
    assert again.repeat_of == foreign
    page = login(people.mediator).get("/referrals/").content.decode()
    assert again.number in page and "flag repeat" not in page
    assert again.number not in login(people.mediator).get("/referrals/?repeat=true").content.decode()
    assert [r["id"] for r in api(people.mediator).get("/api/referrals/?repeat=true").json()["results"]] == []
    # The Taishan office, which may open both, keeps the flag and the filter.
    assert again.number in login(officer).get("/referrals/?repeat=true").content.decode()
    assert "flag repeat" in login(officer).get("/referrals/").content.decode()
