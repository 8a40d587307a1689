"""What the printed documents compute: amounts in words, a party's sex and birth date, the committee's
short name and the agreement's document number (mediation/documents.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from mediation.documents import (
    agreement_number_fields,
    amount_in_figures,
    amount_in_words,
    committee_short_name,
    next_number,
    page_counter_css,
    person_facts,
)
from mediation.models import Agreement, DocumentCounter
from mediation.workflow import AgreementInput, add_attachment, record_session, succeed_referral
from referrals.models import Party
from referrals.workflow import close_referral
from tests.factories import today
from tests.files import pdf_upload
from tests.mediation.conftest import act
from townships.models import Organisation
from townships.validators import make_id_number


@pytest.mark.parametrize(
    ("amount", "words", "figures"),
    [
        (0, "零元整", "¥0.00"),
        (Decimal("0.5"), "伍角", "¥0.50"),
        (Decimal("10.05"), "壹拾元零伍分", "¥10.05"),
        (Decimal("1250.50"), "壹仟贰佰伍拾元伍角", "¥1,250.50"),
        (100000, "壹拾万元整", "¥100,000.00"),
        (2000, "贰仟元整", "¥2,000.00"),
        (Decimal("1409.50"), "壹仟肆佰零玖元伍角", "¥1,409.50"),  # 《正确填写票据和结算凭证的基本规定》
        (Decimal("6007.14"), "陆仟零柒元壹角肆分", "¥6,007.14"),
        (Decimal("325.04"), "叁佰贰拾伍元零肆分", "¥325.04"),
        (Decimal("100010.01"), "壹拾万零壹拾元零壹分", "¥100,010.01"),
        (Decimal("999999999999.99"), "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分", "¥999,999,999,999.99"),
    ],
)
def test_an_amount_is_written_in_financial_numerals_and_in_figures(amount, words, figures):
    assert amount_in_words(amount) == words
    assert amount_in_figures(amount) == figures


def test_an_amount_is_rounded_to_the_cent_and_never_negative():
    assert amount_in_words(Decimal("12.345")) == "壹拾贰元叁角伍分"
    with pytest.raises(ValueError):
        amount_in_words(Decimal("-1"))


def party(id_number: str, kind: str = Party.Kind.PERSON) -> Party:
    return Party(name="王大明", role=Party.Role.PETITIONER, kind=kind, id_number=id_number)


def test_sex_and_birth_date_come_from_a_valid_id_number_only():
    man = make_id_number("440703", datetime.date(1980, 5, 17), 11, male=True)
    woman = make_id_number("440703", datetime.date(1992, 2, 29), 12, male=False)
    assert person_facts(party(man)).sex == "男"
    assert person_facts(party(man)).born == datetime.date(1980, 5, 17)
    assert person_facts(party(woman)).sex == "女"
    assert person_facts(party(woman)).born == datetime.date(1992, 2, 29)
    assert person_facts(party(man.lower())) is not None  # normalised like every other path
    wrong_check_digit = man[:17] + ("0" if man[17] != "0" else "1")
    for number in ("", "44070319800517", wrong_check_digit, "440703198002300011"):
        assert person_facts(party(number)) is None, number
    assert person_facts(party("91440700MA4UABCD1X", Party.Kind.ORGANISATION)) is None


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("环市街道人民调解委员会", "环"),
        ("棠下镇人民调解委员会", "棠"),
        ("台城街道人民调解委员会", "台"),
        ("江门市医疗纠纷人民调解委员会", "江"),
        ("白沙调委会", "白"),
    ],
)
def test_the_committee_short_name_is_the_first_character_of_its_township(name, short):
    assert committee_short_name(Organisation(name=name)) == short


def test_the_page_footer_is_the_translated_text_around_the_page_counters():
    assert page_counter_css() == '"第 " counter(page) " 页 共 " counter(pages) " 页"'


@pytest.mark.django_db
def test_each_written_agreement_gets_the_next_number_of_its_committee_and_year(people, story):
    first = story.succeeded(form="written")
    second = story.succeeded(form="written")
    oral = story.succeeded(form="oral")
    year = datetime.date.today().year
    numbers = [Agreement.objects.get(referral=r).number for r in (first, second, oral)]
    assert numbers == [f"环调〔{year}〕1号", f"环调〔{year}〕2号", ""]
    counter = DocumentCounter.objects.get(committee=people.huanshi, kind="agreement", year=year)
    assert counter.last == 2
    # Another year and another committee count on their own.
    number = agreement_number_fields
    assert number(people.huanshi, "written", datetime.date(2025, 12, 31))["number"] == "环调〔2025〕1号"
    assert number(people.taicheng, "written", datetime.date(year, 1, 2))["number"] == f"台调〔{year}〕1号"
    assert number(people.huanshi, "oral", datetime.date(year, 1, 2)) == {}


@pytest.mark.django_db
def test_the_number_never_changes_and_a_reopened_case_gets_a_new_one(people, story):
    referral = story.succeeded(form="written")
    for kind in ("identity_proof", "agreement"):
        add_attachment(referral, by=people.mediator, kind=kind, upload=pdf_upload())
    close_referral(referral, by=people.reviewer, note="同意办结。")
    agreement = Agreement.objects.get(referral=referral)
    year = agreement.effective_on.year
    assert agreement.number == f"环调〔{year}〕1号"
    people.huanshi.name = "环市人民调解委员会（更名）"
    people.huanshi.save()
    assert act(people.reviewer, referral.pk, "reopen", {"reason": "回访不满意"}).status_code == 200
    agreement.refresh_from_db()
    assert agreement.number == f"环调〔{year}〕1号"
    referral.refresh_from_db()
    on = today()
    record_session(
        referral, by=people.mediator, held_on=on, location="调解室", participants="双方", record="再次调解。"
    )
    again = succeed_referral(
        referral,
        by=people.mediator,
        agreement=AgreementInput(
            form="written", terms="再次达成协议。", performance_method="现金", performance_due=on, signed_on=on
        ),
    )
    new = Agreement.objects.get(referral=again, round=again.round)
    assert new.number == f"{committee_short_name(people.huanshi)}调〔{on.year}〕{2 if year == on.year else 1}号"
    agreement.refresh_from_db()
    assert agreement.number == f"环调〔{year}〕1号"


@pytest.mark.django_db
def test_a_counter_row_lost_does_not_restart_the_numbers(people, story):
    story.succeeded(form="written")
    year = datetime.date.today().year
    DocumentCounter.objects.all().delete()
    assert next_number(people.huanshi, "agreement", year) == 2


@pytest.mark.django_db
def test_the_data_migration_numbers_the_written_agreements_recorded_before_it(people, story):
    import importlib

    from django.apps import apps

    from tests.mediation.conftest import on

    with on(datetime.date(2025, 12, 30)):
        late_2025 = story.succeeded(form="written")
    with on(datetime.date(2026, 3, 2)):
        second = story.succeeded(form="written")
    with on(datetime.date(2026, 1, 5)):
        first = story.succeeded(form="written")
        oral = story.succeeded(form="oral")
    Agreement.objects.update(committee=None, number_year=None, number_seq=None, number="")
    DocumentCounter.objects.all().delete()
    migration = importlib.import_module("mediation.migrations.0006_agreement_number")
    migration.number_written_agreements(apps, None)
    numbers = {a.referral_id: a.number for a in Agreement.objects.all()}
    assert numbers == {
        late_2025.pk: "环调〔2025〕1号",
        first.pk: "环调〔2026〕1号",  # in the order they took effect, not recorded
        second.pk: "环调〔2026〕2号",
        oral.pk: "",
    }
    # New agreements go on from there.
    assert next_number(people.huanshi, "agreement", 2026) == 3
    assert next_number(people.huanshi, "agreement", 2025) == 2
