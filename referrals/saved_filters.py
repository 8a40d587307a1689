"""Saved filters (我的筛选): a person keeps referral-list queries under names of their own.

The one place that checks and writes them, for the list page and the API. A query is stored as the
list's query string, kept to the list's own parameters (never a page position) and checked by the
list's own filters, so a saved filter opens the list exactly as it was when saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import TooManyFieldsSent
from django.db import IntegrityError, transaction
from django.http import Http404, QueryDict
from django.utils.translation import gettext as _

from referrals.errors import InvalidInput
from referrals.filters import FilterError, filter_referrals
from referrals.listing import PAGING, parse_sort
from referrals.models import Referral, SavedFilter

NAME_MAX = SavedFilter._meta.get_field("name").max_length
QUERY_MAX = SavedFilter._meta.get_field("query").max_length
# The list's own parameters, in the order a saved query keeps them.
KEYS = (
    "search",
    "state",
    "category",
    "region",
    "target",
    "origin",
    "open",
    "overdue",
    "due_soon",
    "ping_pong",
    "repeat",
    "from",
    "to",
    "figure",
    "sort",
)


def saved_filters_of(user):
    return SavedFilter.objects.filter(user=user).order_by("name", "id")


def query_of(params: Mapping[str, str]) -> str:
    """The list's query string as it is saved: its filters and sort, without paging or blanks."""
    return urlencode([(key, params[key].strip()) for key in KEYS if (params.get(key) or "").strip()])


def params_of(query: str) -> QueryDict | None:
    """The parameters of a query string as sent; None when it is far too long to be a list's."""
    if len(query or "") > QUERY_MAX * 4:
        return None
    try:
        return QueryDict(query or "")
    except TooManyFieldsSent:
        return None


def check(name: str, query: str) -> tuple[str, str]:
    """A name and a query as they are stored; ``InvalidInput`` naming every mistake."""
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [_("请填写筛选的名称。")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("名称最多 %(max)d 个字（现为 %(n)d 个）。") % {"max": NAME_MAX, "n": len(name)}]
    params = params_of(query)
    if params is None:
        raise InvalidInput({**errors, "query": [_("筛选条件过长，请减少条件后再保存。")]})
    unknown = sorted({key for key in params if key not in KEYS and key not in PAGING})
    query = query_of(params)
    if unknown:
        errors["query"] = [_("筛选条件中有未知的参数：%s") % ", ".join(unknown)]
    elif not query:
        errors["query"] = [_("当前没有任何筛选条件，无需保存。")]
    elif len(query) > QUERY_MAX:
        errors["query"] = [_("筛选条件过长（最多 %d 个字符），请减少条件后再保存。") % QUERY_MAX]
    else:
        try:
            filter_referrals(Referral.objects.none(), params)
            parse_sort(params)
        except FilterError as exc:
            messages = [str(m) for msgs in exc.errors.values() for m in msgs]
            errors["query"] = [_("筛选条件有误，不能保存：%s") % "；".join(messages)]
    if errors:
        raise InvalidInput(errors)
    return name, query


def save_filter(user, *, name: str, query: str) -> SavedFilter:
    """Keep ``query`` under ``name`` for ``user``: a name once per person, at most
    ``SavedFilter.MAX_PER_USER`` each. All or nothing."""
    name, query = check(name, query)
    with transaction.atomic():
        # One person's saves one at a time, so that two at once cannot pass the limit together.
        get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()
        mine = SavedFilter.objects.filter(user=user)
        if mine.filter(name=name).exists():
            raise InvalidInput({"name": [_("已有名为「%s」的筛选，请换一个名称。") % name]})
        if mine.count() >= SavedFilter.MAX_PER_USER:
            raise InvalidInput({"name": [_("最多保存 %d 个筛选，请先删除不再使用的。") % SavedFilter.MAX_PER_USER]})
        try:
            with transaction.atomic():
                return SavedFilter.objects.create(user=user, name=name, query=query)
        except IntegrityError:
            raise InvalidInput({"name": [_("已有名为「%s」的筛选，请换一个名称。") % name]}) from None


def delete_filter(user, pk: int) -> None:
    """Delete one of the user's own saved filters; anyone else's (or none) is "not found"."""
    if not SavedFilter.objects.filter(user=user, pk=pk).delete()[0]:
        raise Http404
