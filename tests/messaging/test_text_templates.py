"""An administrator rewords a kind of message (issue 18 §1): the next message of that kind says it,
with the same placeholders and nothing more; a wording that asks for more is refused, unsaved."""

from __future__ import annotations

import pytest

from messaging import texts
from messaging.models import Message, TextTemplate
from tests.conftest import login
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def admin_page():
    return login(make_user("root", is_staff=True, is_superuser=True))


def test_the_administrators_wording_is_used_from_the_next_message_on_and_deleting_it_restores_ours(
    people, story, daytime
):
    before = story.submitted()
    page = admin_page()
    answer = page.post(
        "/admin/messaging/texttemplate/add/",
        {"template": "referral_made", "text": "【江门调解】纠纷%(number)s已转%(committee)s调解，请保持电话畅通。"},
    )
    assert answer.status_code == 302, answer.content.decode()[:800]
    assert TextTemplate.objects.get().updated_by.username == "root"
    after = story.submitted()
    text = Message.objects.filter(referral=after, template="referral_made").first().text
    assert text.startswith(f"【江门调解】纠纷{after.number}已转{people.huanshi.name}调解，请保持电话畅通。")
    assert "进度查询：" in text  # the party's link still follows
    # Messages already written keep their words.
    assert "已移交" in Message.objects.filter(referral=before, template="referral_made").first().text
    TextTemplate.objects.all().delete()
    third = story.submitted()
    assert "已移交" in Message.objects.filter(referral=third, template="referral_made").first().text


@pytest.mark.parametrize(
    ("template", "text", "fault"),
    [
        ("referral_made", "纠纷%(number)s，当事人%(name)s", "不能使用占位符 %(name)s"),
        ("agreement_reached", "纠纷%(number)s由%(mediators)s调解成功", "不能使用占位符 %(mediators)s"),
        ("accepted", "您的纠纷已受理", "缺少占位符 %(number)s"),
        ("access_code", "纠纷%(number)s的验证码已发送", "缺少占位符 %(code)s"),
        ("referral_made", "纠纷%(number)s 100%完成", "百分号只能用于占位符"),
        ("referral_made", "纠纷%(number)s" + "调" * 71, "不能超过70个字"),
    ],
)
def test_a_wording_that_asks_for_more_or_less_is_refused_and_nothing_is_saved(people, template, text, fault):
    answer = admin_page().post("/admin/messaging/texttemplate/add/", {"template": template, "text": text})
    assert answer.status_code == 200
    assert fault in answer.content.decode()
    assert not TextTemplate.objects.exists()


def test_every_built_in_text_passes_the_check_it_imposes():
    for template, text in texts.TEXTS.items():
        texts.check(template, str(text))
    assert set(texts.TEXTS) == set(Message.Template.values) == set(texts.ALLOWED)
