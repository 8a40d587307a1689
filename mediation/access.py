"""One record of a referral (a session, a supervision order) for an action on it: the referral's own
access rule first, then the record must be one of its."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

from referrals import permissions
from referrals.models import Referral

R = TypeVar("R", bound=models.Model)


def get_record_for_user(user, pk: int, model: type[R], record_pk: int, action: str) -> tuple[Referral, R]:
    """Referral ``pk`` and its record ``record_pk``: 404 when the user may not see the referral or the
    record is not one of its (whether it exists elsewhere is not theirs to learn), then ``action``'s
    403 or 409 (``permissions.require``)."""
    referral = permissions.get_referral_for_user(user, pk)
    try:
        record = model._default_manager.get(pk=record_pk, referral=referral)
    except ObjectDoesNotExist:
        raise Http404 from None
    permissions.require(user, referral, action)
    return referral, record
