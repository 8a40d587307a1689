"""Filters of the printed documents: amounts in words and figures (``mediation.documents``)."""

from __future__ import annotations

from django import template

from mediation.documents import amount_in_figures, amount_in_words

register = template.Library()


@register.filter
def amount_words(value) -> str:
    """2000 → 贰仟元整"""
    return "" if value is None else amount_in_words(value)


@register.filter
def amount_figures(value) -> str:
    """2000 → ¥2,000.00"""
    return "" if value is None else amount_in_figures(value)
