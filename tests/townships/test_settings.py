import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_url


def test_booleans_are_understood_in_the_usual_spellings():
    assert env_bool("X", False, environ={"X": "Yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True


def test_a_misspelt_boolean_stops_start_up_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DEBUG='ture'"):
        env_bool("DEBUG", False, environ={"DEBUG": "ture"})


def test_numbers_must_be_numbers_and_not_below_their_minimum():
    assert env_int("PORT", 1, environ={"PORT": " 8000 "}) == 8000
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("PORT", 1, environ={"PORT": "80a"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("N", 1, minimum=1, environ={"N": "0"})


def test_lists_refuse_empty_items():
    assert env_list("H", [], environ={"H": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("H", [], environ={"H": "a,,b"})


def test_database_and_redis_urls_must_have_a_supported_scheme():
    assert env_url("DATABASE_URL", schemes=("postgres",), environ={"DATABASE_URL": "postgres://u@h/db"})
    assert env_url("DATABASE_URL", schemes=("postgres",), environ={"DATABASE_URL": ""}) is None
    with pytest.raises(ImproperlyConfigured, match="must start with"):
        env_url("DATABASE_URL", schemes=("postgres",), environ={"DATABASE_URL": "mysql://u@h/db"})


def _settings_in_subprocess(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL")}
    clean.update(env)
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()"
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_with_the_development_secret_key():
    result = _settings_in_subprocess(DEBUG="0", ALLOWED_HOSTS="fangdiao.example")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_starts_with_a_real_secret_key_and_hosts():
    result = _settings_in_subprocess(DEBUG="0", SECRET_KEY="x7Kq2-pL9z" * 5, ALLOWED_HOSTS="fangdiao.example")
    assert result.returncode == 0, result.stderr


def test_production_needs_allowed_hosts():
    result = _settings_in_subprocess(DEBUG="0", SECRET_KEY="x7Kq2-pL9z" * 5)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr
