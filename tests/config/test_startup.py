"""What a process does when it starts: the served one freezes what it loaded out of the garbage
collector's walks; a request handler does not walk the static folders."""

import os
import subprocess
import sys
from pathlib import Path

from whitenoise.middleware import WhiteNoiseMiddleware

ROOT = Path(__file__).resolve().parents[2]


def test_the_asgi_application_freezes_its_start_up_objects():
    # A fresh interpreter: the test process's own objects say nothing about the server's.
    code = "import gc, config.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    # Every view module is imported first (the URL configuration), so they are frozen too.
    assert int(out.stdout.strip().splitlines()[-1]) > 50_000


def test_a_new_request_handler_does_not_walk_the_static_folders(settings):
    # With the development settings WhiteNoise serves from the finders. Each test client builds its
    # own middleware; walking every app's static folders at that moment cost ~25 ms a client, a
    # third of the suite. Files are looked up when asked for instead (WHITENOISE_AUTOREFRESH).
    assert settings.WHITENOISE_USE_FINDERS
    middleware = WhiteNoiseMiddleware(get_response=lambda request: None)
    assert middleware.files == {}
    found = middleware.find_file("/static/js/live.js")
    assert found is not None and found.get_response("GET", {}).status == 200


def test_connections_accepted_by_a_socket_uvicorn_binds_for_its_workers_send_at_once():
    # uvicorn binds the socket itself for several workers and Nagle's algorithm stayed on for what it
    # accepted: each kept-alive answer waited ~40 ms for the client's delayed ACK (uvicorn #3149).
    import socket

    import uvicorn.config

    from config import serve

    original = uvicorn.config.Config.bind_socket
    serve.patch()
    try:
        listener = uvicorn.config.Config("config.asgi:application", host="127.0.0.1", port=0, workers=2).bind_socket()
    finally:
        uvicorn.config.Config.bind_socket = original
    listener.listen()  # as the workers' server does with it
    with listener, socket.create_connection(listener.getsockname()):
        accepted, _address = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
