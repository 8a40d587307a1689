"""WSGI entry point (management and plain HTTP only; the app is served over ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.startup import settle  # noqa: E402

settle()
