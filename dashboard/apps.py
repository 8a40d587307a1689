from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The home page and each role's workbench: the top layer, which may use every other app."""

    name = "dashboard"
    verbose_name = _("工作台")
