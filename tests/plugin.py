"""Loaded by pytest before Django's settings (see pyproject.toml addopts).

The suite runs as a developer machine would (DEBUG semantics for settings that depend on it);
pytest-django still runs each test with DEBUG off.
"""

import os

os.environ.setdefault("DEBUG", "1")
# Tests push notifications through the channel layer they configure themselves.
os.environ.setdefault("REMINDER_LOOP_IN_SERVER", "0")

# pytest-xdist (`make test` runs two workers): each worker has its own test database (pytest-django
# suffixes its name), but both would share one Redis under one prefix, and the same primary keys in
# both databases would then name the same cache keys and channel groups (a user's notifications
# reaching the other worker's sockets, its repeat-hint answers read by the other). One prefix each.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and not os.environ.get("REDIS_PREFIX", "").endswith(f"-{_worker}"):
    os.environ["REDIS_PREFIX"] = f"{os.environ.get('REDIS_PREFIX', 'fangdiao')}-{_worker}"


def pytest_collection_modifyitems(session, config, items):
    """Every test that commits must also restore the database it found (``serialized_rollback``).

    A committing test empties the tables when it ends; without a serialized rollback Django then
    re-creates the content types and permissions, and the next test that restores its snapshot
    collides with them (IntegrityError on django_content_type) — on PostgreSQL only, where the
    committing tests of the concurrency and fault suites run. One forgotten flag broke CI once.
    """
    import pytest

    wrong = []
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            wrong.append(item.nodeid)
    if wrong:
        message = "django_db(transaction=True) needs serialized_rollback=True as well:\n  " + "\n  ".join(wrong)
        if hasattr(config, "workerinput"):
            # An xdist worker (`make test`): a UsageError would only crash it, its message lost in an
            # INTERNALERROR. Run nothing and ask to stop; the controller ends the run with the message.
            items[:] = []
            session.shouldstop = message
            return
        raise pytest.UsageError(message)
