from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from tests.messaging.gateway import FakeGateway


@pytest.fixture
def gateway(settings):
    server = FakeGateway().start()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = server.url
    settings.SMS_HTTP_TOKEN = "test-token"
    settings.SMS_HTTP_TEMPLATE_ID = "TPL-1"
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _sms_settings(settings, tmp_path):
    settings.SMS_BACKEND = "console"
    settings.SMS_CONSOLE_FILE = str(tmp_path / "sms.log")
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    settings.SMS_DAILY_CAP = 5
    settings.SMS_MAX_ATTEMPTS = 4
    settings.SMS_RETRY_BASE_SECONDS = 60
    settings.SMS_RETRY_MAX_SECONDS = 3600


def local(hour: int, minute: int = 0, days: int = 0) -> datetime.datetime:
    """Today (plus ``days``) at this local time."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def daytime():
    """The tests run at 10:00 local time, outside the quiet hours, whenever the suite runs."""
    with time_machine.travel(local(10), tick=True) as traveller:
        yield traveller
