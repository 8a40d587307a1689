from django.core.management.base import BaseCommand
from django.utils import timezone

from townships.calendar import load_year
from townships.reference import load_organisations, load_regions


class Command(BaseCommand):
    help = "Load Jiangmen's regions, standard organisations and the working-day calendar (idempotent)."

    def handle(self, *args, **options):
        regions = load_regions()
        organisations = load_organisations()
        this_year = timezone.localdate().year
        days = 0
        for year in range(2020, this_year + 2):
            created, confirmed = load_year(year)
            days += created
            if created and not confirmed:
                self.stdout.write(
                    self.style.WARNING(
                        f"{year}: no official calendar yet; Monday–Friday assumed (unconfirmed). "
                        "Enter the State Council's holidays in the admin (工作日历) and confirm them."
                    )
                )
        self.stdout.write(f"regions +{regions}, organisations +{organisations}, calendar days +{days}")
