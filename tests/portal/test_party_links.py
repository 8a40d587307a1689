"""A party's personal link (issue 18 §2): sent with each message, opened only with a code sent to the
party's own phone, showing their case only; consent online, the party's own rating; all audited."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.models import AccessLog
from mediation.models import FollowUp
from messaging import links
from messaging.models import AccessCode, Message, PartyLink
from notifications.models import Notification
from referrals import workflow
from referrals.models import Party, TimelineEvent
from tests.conftest import api, login
from tests.messaging.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    settings.PUBLIC_BASE_URL = "https://tiaojie.example.gov.cn"
    with time_machine.travel(local(10), tick=True):
        yield


def path_of(message: Message) -> str:
    found = re.search(r"https://tiaojie\.example\.gov\.cn(/p/[^/\s]+/)", message.text)
    assert found, message.text
    return found.group(1)


def code_sent(link: PartyLink) -> str:
    text = Message.objects.filter(party=link.party, template="access_code").latest("pk").text
    return re.search(r"验证码(\d{6})", text).group(1)


def open_with_code(path: str) -> Client:
    """A phone that opens the link, asks for a code and types it."""
    phone = Client()
    assert phone.get(path).status_code == 200
    phone.post(path + "code/")
    link = links.resolve(path.split("/")[2])
    response = phone.post(path + "verify/", {"code": code_sent(link)})
    assert response.status_code == 302
    return phone


def test_each_message_carries_the_partys_own_link_which_shows_nothing_before_the_code(people, story):
    referral = story.submitted()
    sent = list(Message.objects.filter(referral=referral, template="referral_made").order_by("party__position"))
    assert len(sent) == 2
    paths = [path_of(m) for m in sent]
    assert paths[0] != paths[1]  # one link per party
    page = Client().get(paths[0]).content.decode()
    assert "获取验证码" in page and "****" in page
    assert referral.number not in page and people.huanshi.name not in page
    # Every party of the referral has one live link, the same in every later message.
    assert PartyLink.objects.filter(referral=referral, revoked_at__isnull=True).count() == 2
    accepted = workflow.accept_referral(referral, by=people.mediator, mediators=[people.lead], rights_explained=True)
    later = Message.objects.filter(referral=accepted, template="accepted").order_by("party__position").first()
    assert path_of(later) == paths[0]


def test_the_code_opens_the_partys_own_case_and_nothing_of_the_other_party_beyond_the_name(people, story):
    referral = story.mediating()
    mine, other = referral.parties.order_by("position")
    path = path_of(Message.objects.filter(party=mine).first())
    phone = open_with_code(path)
    page = phone.get(path).content.decode()
    assert referral.number in page and people.huanshi.name in page and "正在调解" in page
    assert people.lead.name in page and people.lead.mobile in page
    assert other.name in page
    for secret in (other.phone, other.id_number, other.address, mine.id_number, "排水沟"):
        assert not secret or secret not in page
    # The staff's names other than the mediators' do not show.
    assert people.officer.get_full_name() not in page
    steps = list(
        AccessLog.objects.filter(action="party_link").order_by("at", "id").values_list("detail__step", flat=True)
    )
    assert steps == ["open", "code_sent", "code_right", "view"]
    assert set(AccessLog.objects.filter(action="party_link").values_list("referral_id", flat=True)) == {referral.pk}


@pytest.mark.parametrize("token", ["1.abc:forged", "nonsense", "1:x"])
def test_a_guessed_or_forged_token_is_404_like_any_other(people, story, token):
    story.submitted()
    assert Client().get(f"/p/{token}/").status_code == 404
    assert Client().post(f"/p/{token}/code/").status_code == 404
    assert not AccessCode.objects.exists()


def test_a_revoked_or_expired_link_is_404_and_a_new_one_is_a_new_url(people, story):
    referral = story.submitted()
    party = referral.parties.order_by("position").first()
    link = PartyLink.objects.get(party=party)
    path = f"/p/{links.token(link)}/"
    revoked = api(people.officer).delete(f"/api/referrals/{referral.pk}/parties/{party.pk}/link/")
    assert revoked.status_code == 204
    assert Client().get(path).status_code == 404
    sent = api(people.officer).post(f"/api/referrals/{referral.pk}/parties/{party.pk}/link/")
    assert sent.status_code == 200, sent.json()
    fresh = sent.json()["url"].removeprefix("https://tiaojie.example.gov.cn")
    assert fresh != path and Client().get(fresh).status_code == 200
    assert Message.objects.filter(party=party, template="party_link").count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(days=61)):
        assert Client().get(fresh).status_code == 404


def test_only_the_office_or_the_handling_committee_sends_a_link(people, story):
    from tests import factories as f
    from townships.models import Role

    referral = story.submitted()
    party = referral.parties.first()
    url = f"/api/referrals/{referral.pk}/parties/{party.pk}/link/"
    other = f.make_user(memberships=[(f.committee("440703005"), Role.MEDIATOR)])
    assert api(other).post(url).status_code == 404  # cannot see the referral at all
    assert api(people.supervisor).post(url).status_code == 403  # sees it, may not send
    assert api(people.mediator).post(url).status_code == 200
    assert api(people.officer).post(f"/api/referrals/{referral.pk}/parties/999999/link/").status_code == 404


def test_wrong_codes_end_the_code_and_then_rest_the_link(people, story):
    referral = story.submitted()
    link = PartyLink.objects.filter(referral=referral).first()
    path = f"/p/{links.token(link)}/"
    phone = Client()
    for round_ in range(links.WRONG_CODES_BEFORE_LOCK):
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2 * round_)):
            phone.post(path + "code/")
            right = code_sent(link)
            wrong = f"{(int(right) + 1) % 10**6:06d}"
            for _ in range(links.CODE_TRIES):
                phone.post(path + "verify/", {"code": wrong})
            # The code is spent: even the right one no longer opens.
            phone.post(path + "verify/", {"code": right})
            assert "获取验证码" in phone.get(path).content.decode()
    link.refresh_from_db()
    assert link.locked_until is not None
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=8)):
        answer = phone.post(path + "code/", follow=True).content.decode()
        assert "验证码错误次数过多" in answer


def test_codes_are_rate_limited_per_link(people, story):
    referral = story.submitted()
    link = PartyLink.objects.filter(referral=referral).first()
    path = f"/p/{links.token(link)}/"
    phone = Client()
    phone.post(path + "code/")
    again = phone.post(path + "code/", follow=True).content.decode()
    assert "验证码已发送，请稍候" in again
    start = timezone.now()
    for i in range(1, links.CODES_PER_HOUR):
        with time_machine.travel(start + datetime.timedelta(minutes=2 * i)):
            phone.post(path + "code/")
    with time_machine.travel(start + datetime.timedelta(minutes=15)):
        assert "过于频繁" in phone.post(path + "code/", follow=True).content.decode()
    assert AccessCode.objects.filter(link=link).count() == links.CODES_PER_HOUR


def test_a_code_goes_out_at_once_even_at_night_and_is_hidden_once_sent(people, story, settings):
    from messaging.sender import send_due

    referral = story.submitted()
    link = PartyLink.objects.filter(referral=referral).first()
    with time_machine.travel(local(23), tick=False):
        Client().post(f"/p/{links.token(link)}/code/")
        code = Message.objects.get(template="access_code")
        assert send_due() == 1  # the referral messages wait for the morning; the code does not
        code.refresh_from_db()
        assert code.status == "sent" and "******" in code.text and not re.search(r"验证码\d{6}", code.text)
        assert Message.objects.filter(template="referral_made", status="queued").count() == 2


def test_a_party_without_consent_gives_it_online_and_the_draft_can_then_be_referred(people, story):
    draft = story.draft()
    respondent = draft.parties.get(role=Party.Role.RESPONDENT)
    Party.objects.filter(pk=respondent.pk).update(consent_given_on=None, consent_method="")
    assert any(m.code.startswith("consent:") for m in workflow.missing_for_submit(draft))
    sent = api(people.officer).post(f"/api/referrals/{draft.pk}/parties/{respondent.pk}/link/")
    assert sent.status_code == 200
    path = sent.json()["url"].removeprefix("https://tiaojie.example.gov.cn")
    phone = open_with_code(path)
    assert "同意人民调解" in phone.get(path).content.decode()
    assert phone.post(path + "consent/", {}).status_code == 302  # the box not ticked: nothing recorded
    respondent.refresh_from_db()
    assert respondent.consent_given_on is None
    phone.post(path + "consent/", {"agree": "yes"})
    respondent.refresh_from_db()
    assert respondent.consent_method == "online" and respondent.consent_given_on == timezone.localdate()
    event = TimelineEvent.objects.get(referral=draft, action="party_consent")
    assert event.actor is None and event.data["party"] == respondent.pk
    assert workflow.missing_for_submit(draft) == []
    workflow.submit_referral(draft, by=people.officer)
    # A second tap changes nothing and writes nothing.
    phone.post(path + "consent/", {"agree": "yes"})
    assert TimelineEvent.objects.filter(referral=draft, action="party_consent").count() == 1


def test_the_party_rates_the_mediation_once_and_dissatisfaction_reaches_the_reviewers(people, story):
    referral = story.failed()
    petitioner = referral.parties.get(role=Party.Role.PETITIONER)
    path = path_of(Message.objects.filter(party=petitioner).first())
    phone = open_with_code(path)
    assert "评价本次调解" in phone.get(path).content.decode()
    phone.post(path + "rating/", {"satisfaction": "dissatisfied", "note": "调解员没有听我说完。"})
    rating = FollowUp.objects.get(referral=referral)
    assert (rating.source, rating.party_id, rating.by_id, rating.satisfaction) == (
        "party",
        petitioner.pk,
        None,
        "dissatisfied",
    )
    assert Notification.objects.filter(recipient=people.reviewer, kind="followup_dissatisfied").exists()
    again = phone.post(path + "rating/", {"satisfaction": "satisfied"}, follow=True).content.decode()
    assert "您已评价过本次调解" in again
    assert FollowUp.objects.filter(referral=referral).count() == 1
    # Staff see it on the referral page as the party's own.
    page = login(people.reviewer).get(f"/referrals/{referral.pk}/").content.decode()
    assert f"当事人在线评价（{petitioner.name}）" in page


def test_before_the_mediation_ended_there_is_nothing_to_rate(people, story):
    referral = story.mediating()
    party = referral.parties.first()
    path = path_of(Message.objects.filter(party=party).first())
    phone = open_with_code(path)
    assert "评价本次调解" not in phone.get(path).content.decode()
    answer = phone.post(path + "rating/", {"satisfaction": "satisfied"}, follow=True).content.decode()
    assert "调解结束后才能评价" in answer
    assert not FollowUp.objects.exists()


def test_actions_need_the_code_first(people, story):
    referral = story.failed()
    party = referral.parties.first()
    path = path_of(Message.objects.filter(party=party).first())
    assert Client().post(path + "rating/", {"satisfaction": "satisfied"}).status_code == 404
    assert Client().post(path + "consent/", {"agree": "yes"}).status_code == 404
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("running_totals", [False, True], ids=["live", "running-totals"])
def test_the_parties_own_ratings_are_counted_apart_and_in_the_satisfaction_rate(people, story, running_totals):
    from mediation.workflow import add_followup, rate_by_party

    rated_happy, rated_unhappy, visited = story.failed(), story.failed(), story.failed()
    rate_by_party(rated_happy.parties.first(), satisfaction="satisfied")
    rate_by_party(rated_unhappy.parties.first(), satisfaction="dissatisfied")
    add_followup(visited, by=people.mediator, visited_on=timezone.localdate(), method="phone", satisfaction="satisfied")
    # A whole-county view is answered by the running totals (kept by the party's step itself, no
    # rebuild), one narrowed to a single day live: the same figures.
    today = timezone.localdate().isoformat()
    params = {"region": "440703"} if running_totals else {"region": "440703", "from": today, "to": today}
    figures = api(people.supervisor).get("/api/stats/summary/", params).json()["figures"]
    assert (figures["rated_by_party"], figures["party_satisfied"], figures["party_satisfaction_rate"]) == (2, 1, 0.5)
    assert (figures["followups_visited"], figures["satisfied"]) == (3, 2)
    listed = login(people.supervisor).get("/referrals/", {"figure": "party_satisfied", "region": "440703"})
    assert rated_happy.number in listed.content.decode() and visited.number not in listed.content.decode()


def _consented_online(people, story):
    draft = story.draft()
    respondent = draft.parties.get(role=Party.Role.RESPONDENT)
    Party.objects.filter(pk=respondent.pk).update(consent_given_on=None, consent_method="")
    path = api(people.officer).post(f"/api/referrals/{draft.pk}/parties/{respondent.pk}/link/").json()["url"]
    path = path.removeprefix("https://tiaojie.example.gov.cn")
    open_with_code(path).post(path + "consent/", {"agree": "yes"})
    respondent.refresh_from_db()
    assert respondent.consent_method == "online"
    return draft, respondent, path


def test_editing_the_draft_keeps_the_partys_online_consent_and_link(people, story):
    from tests.referrals.test_pages import registration_form

    draft, respondent, path = _consented_online(people, story)
    # Through the API: a change of summary only.
    patched = api(people.officer).patch(f"/api/referrals/{draft.pk}/", {"summary": "更正后的摘要"}, format="json")
    assert patched.status_code == 200, patched.json()
    # Through the page: the form as the officer sees it, the party's consent as it was given.
    day = respondent.consent_given_on.isoformat()
    form = registration_form(people, summary="再次更正")
    form |= {"parties-1-consent_given_on": day, "parties-1-consent_method": "online"}
    edit = f"/referrals/{draft.pk}/edit/"
    assert 'value="online" selected' in login(people.officer).get(edit).content.decode()
    assert login(people.officer).post(edit, form).status_code == 302
    kept = Party.objects.get(referral=draft, role=Party.Role.RESPONDENT)
    assert (kept.pk, kept.consent_method) == (respondent.pk, "online")
    assert Client().get(path).status_code == 200  # the same link still opens


def test_staff_cannot_write_an_online_consent(people, story):
    from tests.referrals.test_api_path import new_referral_body

    body = new_referral_body(people.huanshi.pk)
    body["parties"][1]["consent"] = {"given_on": timezone.localdate().isoformat(), "method": "online"}
    refused = api(people.officer).post("/api/referrals/", body, format="json")
    assert refused.status_code == 400 and "只能由当事人本人" in str(refused.json())
    # Nor on an edit, for a party who did not give it.
    draft, _respondent, _path = _consented_online(people, story)
    petitioner = api(people.officer).get(f"/api/referrals/{draft.pk}/").json()["parties"][0]
    parties = api(people.officer).get(f"/api/referrals/{draft.pk}/").json()["parties"]
    parties[0]["consent"] = {"given_on": petitioner["consent"]["given_on"], "method": "online"}
    parties = [{k: v for k, v in p.items() if k != "id"} for p in parties]
    patched = api(people.officer).patch(f"/api/referrals/{draft.pk}/", {"parties": parties}, format="json")
    assert patched.status_code == 400 and "只能由当事人本人" in str(patched.json())
    assert Party.objects.get(referral=draft, position=0).consent_method != "online"


def test_the_party_downloads_the_signed_agreement_and_nothing_else_of_the_dossier(people, story):
    from mediation.workflow import add_attachment
    from tests.files import pdf_upload

    referral = story.succeeded(form="written")
    add_attachment(referral, by=people.mediator, kind="agreement", upload=pdf_upload("协议书.pdf"))
    add_attachment(referral, by=people.mediator, kind="identity_proof", upload=pdf_upload("身份证.pdf"))
    signed, identity = referral.attachments.order_by("pk")
    party = referral.parties.order_by("position").first()
    path = path_of(Message.objects.filter(party=party).first())
    # Before the code: the file is not there, for anyone.
    assert Client().get(f"{path}documents/{signed.pk}/").status_code == 404
    phone = open_with_code(path)
    page = phone.get(path).content.decode()
    assert f"{path}documents/{signed.pk}/" in page and "下载调解协议书" in page
    answer = phone.get(f"{path}documents/{signed.pk}/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content).startswith(b"%PDF")
    assert "attachment" in answer["Content-Disposition"] and answer["Cache-Control"] == "private, no-store"
    # The other papers of the dossier are the committee's, not the party's.
    assert phone.get(f"{path}documents/{identity.pk}/").status_code == 404
    assert AccessLog.objects.filter(detail__step="document", detail__attachment=signed.pk).count() == 1


def test_while_mediating_there_is_no_outcome_paper_to_download(people, story):
    from mediation.workflow import add_attachment
    from tests.files import pdf_upload

    referral = story.mediating()
    add_attachment(referral, by=people.mediator, kind="agreement", upload=pdf_upload())
    paper = referral.attachments.get()
    path = path_of(Message.objects.filter(party=referral.parties.first()).first())
    phone = open_with_code(path)
    assert "documents/" not in phone.get(path).content.decode()
    assert phone.get(f"{path}documents/{paper.pk}/").status_code == 404
