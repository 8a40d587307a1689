import time

from django.core.management.base import BaseCommand

from referrals.reminders import run_sweeps


class Command(BaseCommand):
    help = "Run the reminder sweeps once, or every --interval seconds with --loop (scaled mode)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running (for a systemd service)")
        parser.add_argument("--interval", type=int, default=60, help="seconds between sweeps with --loop")

    def handle(self, *args, loop: bool, interval: int, **options):
        while True:
            started = time.monotonic()
            results = run_sweeps()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in results.items()))
            if not loop:
                return
            time.sleep(max(1.0, interval - (time.monotonic() - started)))
