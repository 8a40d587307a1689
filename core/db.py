"""Transactions that may lose a deadlock to another one and are worth one more try."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# PostgreSQL's deadlock_detected and serialization_failure: the server rolled the whole transaction
# back, so running it again from the start is safe.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def lost_a_deadlock(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_once_on_deadlock(fn: Callable[P, T]) -> Callable[P, T]:
    """Run ``fn`` (which opens its own transaction) again once if the database chose it as a deadlock's
    victim. Only the outermost transaction can be retried: inside a caller's transaction the error is
    the caller's to handle."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if connection.in_atomic_block:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if not lost_a_deadlock(exc):
                raise
            log.warning("%s lost a deadlock; trying once more", fn.__qualname__)
            return fn(*args, **kwargs)

    return wrapper
