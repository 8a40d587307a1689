"""Domain errors of the workflow, each mapped to one HTTP status by the API and the pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


@dataclass(frozen=True)
class Missing:
    """A required element (要件) that a step lacks: a stable code and a Chinese message."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self.message)}


class WorkflowError(DomainError):
    """A step refused: every workflow error is one (``core.errors.DomainError`` maps it to HTTP)."""


class MissingElements(WorkflowError):
    """Raised with every missing element at once, never only the first."""

    code = "missing_elements"

    def __init__(self, missing: list[Missing]) -> None:
        self.missing = missing
        names = "；".join(str(m.message) for m in missing)
        super().__init__(str(_("缺少必备要件：%s")) % names)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "missing": [m.as_dict() for m in self.missing]}


class InvalidInput(WorkflowError):
    """Input that cannot be right whatever the state (unknown reason code, a bad target...)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}
        first = next(iter(self.errors.values()))[0]
        super().__init__(str(_("提交的内容有误：%s")) % first)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": self.errors}


class Forbidden(WorkflowError):
    """The user may see the referral but this action is not theirs to take."""

    status = 403
    code = "forbidden"
    default_message = _("您无权对此案件执行该操作。")


class NotAvailable(WorkflowError):
    """The action does not apply in the referral's current state (or someone else got there first)."""

    status = 409
    code = "not_available"
    default_message = _("案件当前状态下不能执行此操作，可能已被他人处理，请刷新后重试。")


class BeyondPetitionDeadline(InvalidInput):
    """Lengthening mediation would carry it past the petition's own deadline (信访工作条例 Art. 34)."""

    code = "beyond_petition_deadline"
