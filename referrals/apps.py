from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("访调对接案件")

    def ready(self) -> None:
        from notifications import kinds
        from referrals import (  # noqa: F401
            appeals,
            assignments,
            case_groups,
            lawyers,
            leader_cases,
            links,
            merging,
            signals,
        )
        from referrals.actions import extension
        from referrals.notices import Notice
        from referrals.registry import registry

        registry.register(extension())
        registry.register(leader_cases.extension())  # 领导包案
        registry.register(assignments.extension())  # 交办件
        registry.register(lawyers.extension())  # 律师参与信访
        registry.register(links.extension())  # 关联案件
        registry.register(case_groups.extension())  # 类案
        registry.register(merging.extension())  # 合并
        registry.register(appeals.extension())  # 复查复核
        kinds.register(Notice)
