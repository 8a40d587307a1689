"""The base of every domain refusal: each app's errors subclass ``DomainError``, and the API and the
pages turn any of them into its status and message without knowing the app (``config``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """A refusal with an HTTP status, a stable code and a message for people (Chinese)."""

    status = 400
    code = "invalid"
    default_message = _("无法完成此操作。")

    def __init__(self, message: StrOrPromise | None = None, *, code: str | None = None) -> None:
        self.message = str(message or self.default_message)
        if code:
            self.code = code
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"detail": self.message, "code": self.code}
