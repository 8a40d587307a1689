"""A person's own API tokens: which clients hold one, and revoking them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.tokens import revoke_token, tokens_of


def token_list(request: HttpRequest) -> HttpResponse:
    tokens = tokens_of(request.user).order_by("-created_at", "pk")
    return render(request, "accounts/tokens.html", {"tokens": tokens, "token_days": settings.API_TOKEN_DAYS})


@require_POST
def revoke(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    token = tokens_of(request.user).filter(pk=pk).first()
    if token is None or not revoke_token(request.user, pk):
        raise Http404("not your token")
    messages.success(request, _("已撤销令牌 %(prefix)s…，使用它的客户端需要重新登录。") % {"prefix": token.prefix})
    return redirect("accounts:tokens")
