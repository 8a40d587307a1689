"""The referral page as a township mediator works it on a phone: required fields starred in every
action form, a refused form summarised at its top with links to its fields, phone numbers to call
(only when shown in full), several files or photos in one upload, the mediator chosen already.

The browser half (the bar at the bottom of the screen, focus, the confirm step) is in
tests/e2e/test_phone_mediator.py.
"""

import re

import pytest

from mediation.models import Attachment
from referrals.models import TimelineEvent
from tests.conftest import login
from tests.factories import day
from tests.files import exe_upload, pdf_upload, png_upload

pytestmark = pytest.mark.django_db


def field_block(html: str, field_id: str) -> str:
    """The rendered field (``templates/forms/field.html``) whose widget has ``field_id``: from its
    wrapper to the next field's."""
    at = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, at)
    end = html.find('<div class="field', at)
    return html[start : end if end != -1 else len(html)]


def starred(html: str, field_id: str) -> bool:
    block = field_block(html, field_id)
    heading = re.search(r"<(label|legend)\b[^>]*>(.*?)</\1>", block, re.S)
    return heading is not None and 'class="req"' in heading.group(2)


def page(user, referral) -> str:
    response = login(user).get(f"/referrals/{referral.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_accept_and_decline_star_what_the_step_requires(people, story):
    html = page(people.mediator, story.submitted())
    assert starred(html, "id_accept_lead") and starred(html, "id_accept_rights_explained")
    assert not starred(html, "id_accept_others_0") and not starred(html, "id_accept_note")
    assert 'aria-required="true"' in field_block(html, "id_accept_lead")
    assert starred(html, "id_decline_reason") and not starred(html, "id_decline_note")


def test_succeed_and_fail_star_what_the_step_requires(people, story):
    html = page(people.mediator, story.with_session())
    for name in ("form", "terms", "performance_method", "performance_due"):
        assert starred(html, f"id_succeed_{name}" + ("_0" if name == "form" else "")), name
    for name in ("amount", "performance_place", "signed_on", "note", "scan"):
        assert not starred(html, f"id_succeed_{name}"), name
    assert 'aria-required="true"' in field_block(html, "id_succeed_terms")
    assert starred(html, "id_fail_reason") and starred(html, "id_fail_routes_explained_0")
    assert not starred(html, "id_fail_no_session_note")  # a session is on record
    for name in ("held_on", "location", "participants", "record"):  # 记录调解: required by the form itself
        assert starred(html, f"id_record_session_{name}"), name


def test_without_a_session_the_reason_for_none_is_starred(people, story):
    html = page(people.mediator, story.mediating())
    assert starred(html, "id_fail_no_session_note")


def test_review_and_supervision_reply_are_starred(people, story):
    referral = story.succeeded()
    html = page(people.reviewer, referral)
    assert starred(html, "id_close_note")
    assert starred(html, "id_request_correction_items_0")
    mediating = story.mediating()
    issued = login(people.supervisor).post(
        f"/referrals/{mediating.pk}/actions/issue_supervision/",
        {"kind": "written_notice", "note": "请报告进展。", "respond_by": day()},
    )
    assert issued.status_code == 302
    html = page(people.mediator, mediating)
    assert starred(html, "id_respond_supervision_response")


def test_a_refused_succeed_is_summarised_at_the_top_of_its_form(people, story):
    referral = story.with_session()
    body = {
        "form": "written",
        "performance_method": "现金支付",
        "performance_due": day(5),
        "signed_on": day(),
    }
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/succeed/", body)
    assert response.status_code == 400
    html = response.content.decode()
    details = html[html.rindex("<details", 0, html.index('data-action="succeed"')) :]
    details = details[: details.index("</details>")]
    assert re.search(r"<details[^>]*\bopen\b", details)
    form = details[details.index("<form") :]
    summary = form[form.index("data-error-summary") : form.index("</div>")]
    assert form.index("data-error-summary") < form.index('class="field')  # at the top of the form
    assert "请填写以下内容" in summary
    assert '<a href="#id_succeed_terms" data-field-link>缺少必备要件：协议内容(各方的权利义务)</a>' in summary
    assert "履行方式" not in summary  # only what is missing
    terms = field_block(html, "id_succeed_terms")
    assert "has-error" in terms and 'aria-invalid="true"' in terms
    assert "缺少必备要件：协议内容(各方的权利义务)" in terms
    assert "现金支付" in form  # what was typed is kept


def test_a_refused_session_names_each_field_with_its_label(people, story):
    referral = story.mediating()
    body = {"held_on": day(), "participants": "双方", "record": "听取陈述。"}
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/record_session/", body)
    assert response.status_code == 400
    html = response.content.decode()
    summary = html[html.index("data-error-summary") :]
    summary = summary[: summary.index("</div>")]
    assert '<a href="#id_record_session_location" data-field-link>地点：' in summary


def test_a_missing_element_without_a_field_stays_above_the_fields(people, story):
    referral = story.mediating()  # no session: 至少一份调解记录 is nobody's field
    response = login(people.mediator).post(f"/referrals/{referral.pk}/actions/succeed/", {"form": "oral"})
    html = response.content.decode()
    summary = html[html.index("data-error-summary") :]
    summary = summary[: summary.index("</div>")]
    assert "<li>至少一份调解记录(人民调解记录)</li>" in summary
    assert 'href="#id_succeed_performance_method"' in summary


def test_phone_numbers_are_links_only_where_shown_in_full(people, story):
    referral = story.mediating()
    phones = [p.phone for p in referral.parties.all()]
    full = page(people.mediator, referral)
    for phone in phones:
        assert f'<a href="tel:{phone}" class="tel">{phone}</a>' in full
    masked = page(people.supervisor, referral)
    assert "tel:" not in masked
    assert phones[0][:3] + "****" + phones[0][-4:] in masked


def test_a_roster_links_the_mobiles_it_shows_in_full(people):
    html = login(people.mediator).get("/rosters/").content.decode()
    assert f'<a href="tel:{people.lead.mobile}" class="tel">{people.lead.mobile}</a>' in html


def test_a_masked_number_is_never_a_link():
    from core.templatetags.phones import tel_link
    from referrals.templatetags.referral_tags import phone_link

    assert phone_link("13800001234", False) == "138****1234"
    assert phone_link("13800001234", True) == '<a href="tel:13800001234" class="tel">13800001234</a>'
    assert tel_link("138****1234") == "138****1234"
    assert tel_link("") == ""


def test_the_party_phone_opens_the_numeric_keypad(people):
    html = login(people.officer).get("/referrals/new/").content.decode()
    phone = re.search(r'<input[^>]*name="parties-0-phone"[^>]*>', html).group(0)
    assert 'type="tel"' in phone and 'inputmode="tel"' in phone


def test_file_fields_take_several_files_and_the_camera(people, story):
    html = page(people.mediator, story.with_session())
    for field_id in ("id_add_attachment_file", "id_succeed_scan"):
        tag = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', html).group(0)
        assert "multiple" in tag and "image/*" in tag and "application/pdf" in tag
        assert f'data-camera-for="{field_id}"' in html


def test_several_files_are_stored_in_one_upload(people, story):
    referral = story.mediating()
    client = login(people.mediator)
    before = TimelineEvent.objects.filter(referral=referral).count()
    response = client.post(
        f"/referrals/{referral.pk}/actions/add_attachment/",
        {"kind": "evidence", "file": [pdf_upload("第1页.pdf"), png_upload("第2页.png")]},
    )
    assert response.status_code == 302
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == ["第1页.pdf", "第2页.png"]
    assert TimelineEvent.objects.filter(referral=referral).count() == before + 1


def test_one_refused_file_refuses_the_whole_upload(people, story):
    referral = story.mediating()
    response = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/add_attachment/",
        {"kind": "evidence", "file": [pdf_upload("好的.pdf"), exe_upload("坏的.pdf")]},
    )
    assert response.status_code == 400
    field = field_block(response.content.decode(), "id_add_attachment_file")
    assert "坏的.pdf：不支持的文件类型" in field and "好的.pdf：" not in field
    assert not Attachment.objects.exists()


def test_too_many_files_at_once_are_refused(people, story):
    referral = story.mediating()
    files = [pdf_upload(f"{i}.pdf") for i in range(11)]
    response = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/add_attachment/", {"kind": "evidence", "file": files}
    )
    assert response.status_code == 400
    assert "一次最多上传10个文件" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_signed_agreement_in_several_pages(people, story):
    referral = story.with_session()
    response = login(people.mediator).post(
        f"/referrals/{referral.pk}/actions/succeed/",
        {
            "form": "written",
            "terms": "被申请人赔偿500元。",
            "performance_method": "现金支付",
            "performance_due": day(5),
            "signed_on": day(),
            "scan": [png_upload("协议第1页.png"), png_upload("协议第2页.png")],
        },
    )
    assert response.status_code == 302
    assert Attachment.objects.filter(referral=referral, kind="agreement").count() == 2


def test_the_mediator_is_chosen_already_as_lead_and_in_the_session(people, story):
    html = page(people.mediator, story.submitted())
    lead = field_block(html, "id_accept_lead")
    assert re.search(rf'<option value="{people.lead.pk}" selected>', lead)
    referral = story.mediating()
    referral.mediators.set([people.second])
    html = page(people.mediator, referral)
    mine = re.search(rf'<input[^>]*name="mediators" value="{people.lead.pk}"[^>]*>', html).group(0)
    assert "checked" in mine


def test_no_lead_is_chosen_for_someone_not_on_the_roster(people, story):
    people.lead.user = None
    people.lead.save()
    html = page(people.mediator, story.submitted())
    assert " selected>" not in field_block(html, "id_accept_lead").replace('value="" selected>', "")


def test_the_action_bar_opens_each_form_on_the_page(people, story):
    html = page(people.mediator, story.with_session())
    bar = html[html.index("data-action-bar") :]
    bar = bar[: bar.index("</nav>")]
    targets = re.findall(r'data-open-form="([^"]+)"', bar)
    labels = re.findall(r">([^<>]+)</a>", bar)
    assert labels[:1] == ["记录调解"] and "调解成功" in labels and "终止调解" in labels
    for target in targets:
        assert f'id="{target}"' in html, target
    assert "has-action-bar" in html[html.index("<body") : html.index(">", html.index("<body"))]


@pytest.mark.parametrize(
    ("state", "user", "action"),
    [
        ("with_session", "mediator", "succeed"),
        ("with_session", "mediator", "fail"),
        ("submitted", "mediator", "decline"),
        ("closable", "reviewer", "close"),
    ],
)
def test_irreversible_steps_ask_first(people, story, state, user, action):
    html = page(getattr(people, user), story.at(state))
    form = html[html.index(f'data-action="{action}"') :]
    form = form[form.index("<form") : form.index(">", form.index("<form"))]
    assert re.search(r'data-confirm="[^"]+"', form) and "data-confirm-title=" in form
    assert 'id="confirm-dialog"' in html
