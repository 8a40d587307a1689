"""Helpers shared by the mediation tests: private media storage, API calls and dated travel."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import api

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _private_media(_fast_hasher, settings, tmp_path):
    # Each test stores its uploads in its own folder: other processes run the suite at the same
    # time, and "nothing was stored" must be checked on this test's files alone.
    settings.MEDIA_ROOT = str(tmp_path / "media")


def stored_files(settings) -> list[str]:
    from pathlib import Path

    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def on(day: datetime.date, hour: int = 10):
    """Travel to ``hour`` o'clock of ``day`` in Jiangmen, with the clock standing still."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI), tick=False)


def act(user, referral_id: int, action: str, body: dict | None = None):
    return api(user).post(f"/api/referrals/{referral_id}/actions/{action}/", body or {}, format="json")


def post(user, referral_id: int, path: str, body: dict | None = None, *, multipart: bool = False):
    return api(user).post(
        f"/api/referrals/{referral_id}/{path}", body or {}, format="multipart" if multipart else "json"
    )


def codes(response) -> list[str]:
    return [m["code"] for m in response.json()["missing"]]
