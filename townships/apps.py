from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TownshipsConfig(AppConfig):
    name = "townships"
    verbose_name = _("区划与组织")

    def ready(self) -> None:
        from townships import signals  # noqa: F401  (connects membership → group sync)
