import time

from django.core.management.base import BaseCommand

from messaging.sender import send_due


class Command(BaseCommand):
    help = "Send the queued messages to parties that are due, once or every --interval seconds with --loop."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running (for a systemd service)")
        parser.add_argument("--interval", type=int, default=30, help="seconds between runs with --loop")

    def handle(self, *args, loop: bool, interval: int, **options):
        while True:
            started = time.monotonic()
            sent = send_due()
            self.stdout.write(f"sent={sent}")
            if not loop:
                return
            time.sleep(max(1.0, interval - (time.monotonic() - started)))
