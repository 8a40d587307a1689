from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("访调对接案件")

    def ready(self) -> None:
        from referrals import signals  # noqa: F401
