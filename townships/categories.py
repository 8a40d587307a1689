"""Dispute categories of the standard people's-mediation statistics (docs/domain.md#figures).

They live in the bottom app because both referrals and mediator rosters (specialities) use them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    MARRIAGE_FAMILY = "marriage_family", _("婚姻家庭")
    NEIGHBOUR = "neighbour", _("邻里")
    HOUSING_HOMESTEAD = "housing_homestead", _("房屋宅基地")
    CONTRACT = "contract", _("合同")
    BUSINESS = "business", _("生产经营")
    DAMAGES = "damages", _("损害赔偿")
    FOREST_LAND = "forest_land", _("山林土地")
    LAND_REQUISITION = "land_requisition", _("征地拆迁")
    POLLUTION = "pollution", _("环境污染")
    LABOUR = "labour", _("劳动争议")
    CONSUMER = "consumer", _("消费")
    MEDICAL = "medical", _("医疗")
    TRAFFIC = "traffic", _("道路交通事故")
    PROPERTY_MANAGEMENT = "property_management", _("物业")
    OTHER = "other", _("其他")


# A realistic monthly mix for one city (docs/domain.md#figures), used by the demo data and benchmarks.
REALISTIC_MIX: dict[str, float] = {
    "neighbour": 32,
    "marriage_family": 18,
    "damages": 9,
    "housing_homestead": 8,
    "medical": 6,
    "other": 6,
    "contract": 5,
    "traffic": 4,
    "business": 4,
    "land_requisition": 3,
    "forest_land": 2,
    "labour": 2,
    "consumer": 1,
    "pollution": 0.5,
    "property_management": 0.1,
}
