from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("调解")

    def ready(self) -> None:
        from mediation.extensions import extension
        from mediation.notices import Notice
        from notifications import kinds
        from referrals.registry import registry

        registry.register(extension())
        kinds.register(Notice)
