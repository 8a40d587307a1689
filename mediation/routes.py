"""Which routes stay open to the parties when mediation ends without agreement, by dispute type.

人民调解法 Art. 26: the mediator tells the parties that they may protect their rights through
arbitration, administrative or judicial channels. Which of these exist depends on the dispute:

- **Litigation** is open for every civil dispute.
- **Arbitration** needs a dispute that can be arbitrated: labour disputes (劳动争议仲裁, required before
  suing), rural land contracts (农村土地承包仲裁, under 山林土地), and contract, business, consumer and
  property-management disputes where the parties agree to it. Family matters (婚姻、赡养、继承) and
  disputes between neighbours cannot be arbitrated (仲裁法 Art. 3).
- **Administrative review or ruling** is for disputes a government body decides: ownership of land,
  forests and homesteads (土地管理法 Art. 14, 森林法 Art. 22), compensation for land taken, and
  pollution damage handled by the environmental authority.
- **The petition channel** is never offered: a dispute that the law sends to litigation, arbitration
  or review is not taken up as a petition (信访工作条例 Art. 31). The code stays in ``LegalRoute`` only
  so that terminations recorded before this rule keep their label.

A category the list does not know (``other``) is offered all three legal routes: the mediator knows
the dispute, the code does not.
"""

from __future__ import annotations

from referrals.models import LegalRoute
from townships.categories import Category

ARBITRABLE = frozenset(
    {
        Category.LABOUR,
        Category.CONTRACT,
        Category.BUSINESS,
        Category.CONSUMER,
        Category.PROPERTY_MANAGEMENT,
        Category.FOREST_LAND,
        Category.OTHER,
    }
)
ADMINISTRATIVE = frozenset(
    {
        Category.FOREST_LAND,
        Category.HOUSING_HOMESTEAD,
        Category.LAND_REQUISITION,
        Category.POLLUTION,
        Category.OTHER,
    }
)


def routes_for(category: str) -> list[str]:
    """The routes a mediator may explain for a dispute of ``category``, in the order the law names them."""
    routes = [LegalRoute.LITIGATION.value]
    if category in ARBITRABLE:
        routes.append(LegalRoute.ARBITRATION.value)
    if category in ADMINISTRATIVE:
        routes.append(LegalRoute.ADMINISTRATIVE_REVIEW.value)
    return routes


def choices_for(category: str) -> list[tuple[str, str]]:
    return [(route, LegalRoute(route).label) for route in routes_for(category)]
