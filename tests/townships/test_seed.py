import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from mediation.models import Agreement, MediationSession
from referrals.models import Referral, State, TimelineEvent
from townships.models import Mediator, Membership, Organisation

pytestmark = pytest.mark.django_db
User = get_user_model()


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "mediators": Mediator.objects.count(),
        "organisations": Organisation.objects.count(),
        "referrals": Referral.objects.count(),
        "events": TimelineEvent.objects.count(),
        "sessions": MediationSession.objects.count(),
        "agreements": Agreement.objects.count(),
    }


def test_seed_demo_is_idempotent_and_covers_every_state(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first
    assert set(Referral.objects.values_list("state", flat=True)) == set(State.values)
    assert Referral.objects.overdue().open().exists()
    assert Referral.objects.filter(ping_pong=True).exists()
    for username in ("officer", "reviewer", "mediator", "mediator2", "supervisor", "city", "cityoffice", "admin"):
        assert User.objects.get(username=username).check_password("jiangmen-demo")
    # 复查复核: kept by the city's petition office, one answered through 复核, one past its answer day.
    from referrals.models import Appeal

    assert Appeal.objects.filter(office__name="江门市信访局", kind="re_review", body="广东省信访局").exists()
    assert Appeal.objects.filter(kind="review", decided_on__isnull=True, due_on__lt=timezone.localdate()).exists()
    assert Mediator.objects.filter(user__username="mediator", committee__name="环市街道人民调解委员会").exists()
    # Every committee has a roster with at least one woman (人民调解法 Art. 8).
    for committee in Organisation.objects.filter(kind="mediation_committee"):
        assert committee.mediators.filter(sex="F").exists()


def test_seed_demo_refuses_demo_accounts_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.filter(username="officer").exists()
