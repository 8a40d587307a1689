"""Loaded by pytest before Django's settings (see pyproject.toml addopts).

The suite runs as a developer machine would (DEBUG semantics for settings that depend on it);
pytest-django still runs each test with DEBUG off.
"""

import os

os.environ.setdefault("DEBUG", "1")
# Tests push notifications through the channel layer they configure themselves.
os.environ.setdefault("REMINDER_LOOP_IN_SERVER", "0")
