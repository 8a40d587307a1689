"""Template context: the signed-in person's organisations and roles, for the header and menu."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from townships.models import Membership, Role


def memberships_of(user) -> list[Membership]:
    """The user's memberships, read once per request object and cached on the user."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user)
            .select_related("organisation__region")
            .order_by("organisation__region__code", "organisation__name", "role")
        )
        user._memberships_cache = cached
    return cached


def current_roles(request) -> dict:
    user = getattr(request, "user", None)
    if user is None:
        return {}

    def roles() -> set[str]:
        return {m.role for m in memberships_of(user)}

    return {
        "my_memberships": SimpleLazyObject(lambda: memberships_of(user)),
        "my_roles": SimpleLazyObject(roles),
        "Role": Role,
    }
