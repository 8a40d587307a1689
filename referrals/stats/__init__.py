"""Statistics: the figures a justice bureau steers by (docs/domain.md#figures), counted in the database.

Three rules hold for every number here:

- **Scope.** Every figure starts from ``referrals_visible_to(user)`` and narrows it with the
  referral list's own filters (``referrals/filters.py``: ``region``, ``from``/``to``, ``target``,
  ``origin``, ``category``). The period is the *received* date (信访登记日期), as in the list, so
  a figure of a period counts the referrals received in it, whatever happened to them since.
- **One definition.** Each figure is a ``Figure`` in ``FIGURES``: its label, the sentence that
  defines it (tooltips, ``docs/statistics.md``) and, for counts, the condition that picks the
  referrals behind it. The same condition counts the number and filters the referral list the
  number links to (``?figure=<key>``), so the two cannot disagree.
- **Fixed cost.** A summary is a fixed set of queries, whatever the number of referrals or
  townships; nothing loops over referrals in Python. The counts come from one GROUP BY (township,
  category, month received) whose cells are summed into the headline and every breakdown
  (``Figures``). The two timeliness rates group in SQL by distinct (start day, end day) pairs and
  apply the working-day calendar of ``townships/calendar.py`` to each pair, so the rule lives in
  one place.

Figures of later apps (agreements, follow-ups, supervision orders in ``mediation``) join through
their ``Extension`` (``referrals/registry.py``) without this package importing them.
"""

from referrals.stats.compute import (
    LEADING_COUNTS,
    Figures,
    by_category,
    by_county,
    by_month,
    by_region,
    counts,
    headline,
    region_link_keys,
    summary,
    to_accept,
    to_conclude,
)
from referrals.stats.figures import (
    AMOUNT,
    COUNT,
    DAYS,
    DOCS_BEGIN,
    DOCS_END,
    FIGURES,
    RATE,
    ROW_FIGURES,
    ROW_RATES,
    Figure,
    Item,
    ItemList,
    Lister,
    StatsSource,
    display,
    figure_conditions,
    figures_markdown,
    list_url,
    source_lister,
    sources,
    succeeded_q,
)
from referrals.stats.scope import Scope, ScopeForbidden, ScopeInvalid, month_end, months, parse_scope

__all__ = [
    "AMOUNT",
    "COUNT",
    "DAYS",
    "DOCS_BEGIN",
    "DOCS_END",
    "FIGURES",
    "LEADING_COUNTS",
    "RATE",
    "ROW_FIGURES",
    "ROW_RATES",
    "Figure",
    "Figures",
    "Item",
    "ItemList",
    "Lister",
    "Scope",
    "ScopeForbidden",
    "ScopeInvalid",
    "StatsSource",
    "by_category",
    "by_county",
    "by_month",
    "by_region",
    "counts",
    "display",
    "figure_conditions",
    "figures_markdown",
    "headline",
    "list_url",
    "month_end",
    "months",
    "parse_scope",
    "region_link_keys",
    "source_lister",
    "sources",
    "succeeded_q",
    "summary",
    "to_accept",
    "to_conclude",
]
