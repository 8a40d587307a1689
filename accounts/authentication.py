"""``Authorization: Token <key>`` for the API, against ``accounts.models.ApiToken``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts import tokens


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's header parsing and ``WWW-Authenticate: Token``; the key checked against hashed, expiring tokens.

    A subclass of DRF's class, so that drf-spectacular documents it as the same ``tokenAuth`` scheme.
    """

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = tokens.authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已过期。"))
        return (token.user, token)
