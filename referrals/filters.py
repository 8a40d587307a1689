"""The referral list filters, shared by the API, the pages and the ledger export."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from referrals.models import OPEN_STATES, Referral, State
from townships.categories import Category

TRUE = {"1", "true", "yes", "on"}


class FilterError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(errors)


def _int(value: str, field: str, errors: dict) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    # Beyond the database's 64-bit integers the query itself fails (a 500 on SQLite before).
    if number is None or not -(2**63) <= number < 2**63:
        errors[field] = [_("应为数字。")]
        return None
    return number


def filter_referrals(qs: QuerySet[Referral], params: Mapping[str, str]) -> QuerySet[Referral]:
    """Apply ``state``, ``category``, ``target``, ``origin``, ``region``, ``overdue``, ``due_soon``,
    ``open``, ``ping_pong``, ``repeat``, ``from``/``to`` (received), ``figure`` (the referrals behind
    statistics figures, ``referrals/stats.py``) and ``search``.

    Raises ``FilterError`` (a 400) naming each unknown value rather than silently ignoring it.
    """
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if value := params.get("state"):
        states = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in states if s not in State.values]
        if unknown:
            errors["state"] = [_("未知状态：%s") % ", ".join(unknown)]
        else:
            qs = qs.filter(state__in=states)
    if value := params.get("category"):
        categories = [c.strip() for c in value.split(",") if c.strip()]
        unknown = [c for c in categories if c not in Category.values]
        if unknown:
            errors["category"] = [_("未知纠纷类别：%s") % ", ".join(unknown)]
        else:
            qs = qs.filter(category__in=categories)
    for field in ("target", "origin"):
        if value := params.get(field):
            pk = _int(value, field, errors)
            if pk is not None:
                qs = qs.filter(**{f"{field}_id": pk})
    if value := params.get("region"):
        if not value.isdigit() or len(value) > 12:
            errors["region"] = [_("区划代码应为数字。")]
        else:
            qs = qs.filter(region_code__startswith=value)
    if params.get("open", "").lower() in TRUE:
        qs = qs.filter(state__in=OPEN_STATES)
    if params.get("overdue", "").lower() in TRUE:
        qs = qs.filter(due_at__lte=now)
    if params.get("due_soon", "").lower() in TRUE:
        qs = qs.filter(due_soon_at__lte=now, due_at__gt=now)
    if params.get("ping_pong", "").lower() in TRUE:
        qs = qs.filter(ping_pong=True)
    if params.get("repeat", "").lower() in TRUE:
        qs = qs.filter(repeat_of__isnull=False)
    for field, lookup in (("from", "received_on__gte"), ("to", "received_on__lte")):
        if value := params.get(field):
            try:
                import datetime

                qs = qs.filter(**{lookup: datetime.date.fromisoformat(value)})
            except ValueError:
                errors[field] = [_("日期格式应为 YYYY-MM-DD。")]
    if value := params.get("figure"):
        # The referrals behind a dashboard number, by the statistics' own definition of it.
        from referrals.stats import figure_conditions

        try:
            qs = qs.filter(figure_conditions([k.strip() for k in value.split(",") if k.strip()], now))
        except KeyError as exc:
            errors["figure"] = [_("未知的统计口径：%s") % exc.args[0]]
    if value := params.get("search", "").strip():
        if len(value) > 100:
            errors["search"] = [_("搜索内容过长。")]
        else:
            # A number or petition number exactly, or any text of the summary and party names.
            qs = qs.filter(Q(number=value.upper()) | Q(petition_no=value) | Q(search_text__contains=value))
    if errors:
        raise FilterError(errors)
    return qs
