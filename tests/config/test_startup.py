"""The served process freezes what it loaded at start-up out of the garbage collector's walks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_asgi_application_freezes_its_start_up_objects():
    # A fresh interpreter: the test process's own objects say nothing about the server's.
    code = "import gc, config.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    # Every view module is imported first (the URL configuration), so they are frozen too.
    assert int(out.stdout.strip().splitlines()[-1]) > 50_000
