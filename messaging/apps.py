from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("当事人短信")

    def ready(self) -> None:
        from django.core import checks

        from messaging import tencent
        from messaging.extensions import extension
        from referrals.registry import registry

        registry.register(extension())
        checks.register(tencent.check, "messaging")
