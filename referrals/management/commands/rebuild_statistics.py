from django.core.management.base import BaseCommand

from referrals import rollup


class Command(BaseCommand):
    help = "Recount the statistics cells from the referrals (after a bulk load or a restore; safe any time)."

    def handle(self, *args, **options):
        self.stdout.write(f"{rollup.rebuild()} statistics cells")
