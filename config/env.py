"""Reading settings from the environment, failing loudly on values we cannot understand.

A typo such as ``DEBUG=ture`` or ``PORT=80a`` must stop the process at start-up with a message
naming the variable, not silently fall back to a default that nobody chose.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import overload
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


# With a default the value is always a string; without one, None when the variable is unset.
@overload
def env_str(name: str, default: str, *, environ: Mapping[str, str] = ...) -> str: ...
@overload
def env_str(name: str, default: None = None, *, environ: Mapping[str, str] = ...) -> str | None: ...
def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] = os.environ) -> str | None:
    value = environ.get(name)
    if value is None:
        return default
    return value.strip()


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None, environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item: separate values with single commas.")
    return items


def env_url(name: str, *, schemes: tuple[str, ...], environ: Mapping[str, str] = os.environ) -> str | None:
    """A URL whose scheme must be one we support; empty or unset means "not configured"."""
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        wanted = ", ".join(s + "://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must start with one of {wanted}; got {parsed.scheme or 'no scheme'}.")
    if not parsed.hostname and not parsed.path:
        raise ImproperlyConfigured(f"{name}={raw!r} names no host.")
    return raw
