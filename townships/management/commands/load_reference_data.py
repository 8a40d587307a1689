from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from townships.calendar import YearLoad
from townships.reference import load_calendar, load_organisations, load_regions

FIRST_YEAR = 2020


class Command(BaseCommand):
    help = (
        "Load Jiangmen's regions, standard organisations and the working-day calendar (idempotent). "
        "A year that a newer chinesecalendar publishes replaces the one computed by the statutory rule."
    )

    def handle(self, *args, **options):
        regions = load_regions()
        organisations = load_organisations()
        loads = load_calendar(range(FIRST_YEAR, timezone.localdate().year + 2))
        for load in loads:
            self.report(load)
        days = sum(load.created for load in loads)
        self.stdout.write(f"regions +{regions}, organisations +{organisations}, calendar days +{days}")

    def report(self, load: YearLoad) -> None:
        if load.official and load.replaced:
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(year)d 年：已按 chinesecalendar 公布的放假安排更新 %(days)d 天（此前为推算或旧数据）。")
                    % {"year": load.year, "days": load.replaced}
                )
            )
        if load.official and load.kept:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "%(year)d 年：管理员录入的 %(days)d 天与公布的安排不同，已保留管理员的录入，"
                        "请在管理后台（工作日历）核对。"
                    )
                    % {"year": load.year, "days": load.kept}
                )
            )
        if not load.provisional:
            return
        if load.official:
            message = _("%(year)d 年：有 %(days)d 天尚未确认，相关期限标为暂定。请在管理后台（工作日历）中确认。")
        else:
            message = _(
                "%(year)d 年：国务院的放假安排尚未收录（chinesecalendar 未覆盖该年），已按《全国年节及纪念日放假办法》"
                "推算法定节假日；调休上班日和连休安排要等公布后才知道，该年日历为暂定，%(days)d 天未确认，"
                "落在该年的期限标为暂定。公布后请升级 chinesecalendar 并重新运行 load_reference_data，"
                "或由管理员在管理后台（工作日历）中录入并确认。"
            )
        self.stdout.write(self.style.WARNING(message % {"year": load.year, "days": load.unconfirmed}))
