"""合并 (merge) and 撤销合并 (unmerge): a duplicate referral folded into another of the same office, and
the fold undone completely.

- **Who**: the officers and reviewers of the origin petition office, and only between two referrals
  of that office (both theirs to see).
- **A merged referral** (``merged_into``) keeps everything it had — parties, files, sessions, timeline —
  and its page and API answer with a pointer to the survivor. It takes no further step (every action
  but ``unmerge`` is refused, ``permissions.decide``), runs no clock (``deadlines.compute_deadline``)
  and counts nowhere in the statistics: ``stats`` scopes, the running totals and the lists behind
  their numbers read only referrals not merged. The survivor lists what was merged into it.
- **Not merged**: a closed referral (its petition is answered), a referral something else was merged
  into (no chains), or into a referral itself merged.
- **Unmerge** restores the referral as it was: its state never changed, its clocks are computed
  again, it counts again. Both are steps of the merged referral (timeline); the survivor's timeline
  records them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals import permissions
from referrals.errors import InvalidInput, NotAvailable
from referrals.models import Referral, State, TimelineEvent
from referrals.registry import Action, Extension, Panel
from referrals.steps import step

if TYPE_CHECKING:
    from django.http import HttpRequest

    from referrals.permissions import Actor, AnyUser

NOT_FOUND = gettext_lazy("未找到可并入的本部门案件。")


def may_merge(actor: Actor, referral: Referral) -> bool:
    return bool(actor.origin_officer or actor.origin_reviewer)


def mergeable(referral: Referral) -> bool:
    # Whether others were merged into it (no chains) is asked by ``merge_referral`` itself: the rule is
    # read for every row of a list, and must not cost a query each.
    return referral.merged_into_id is None and referral.state != State.CLOSED


def _note_on(survivor: Referral, by: Any, action: str, note: str, data: dict[str, object]) -> None:
    # The survivor's own history says what came into it and went out again (no state changes there).
    TimelineEvent.objects.create(
        referral=survivor,
        actor=by,
        action=action,
        from_state=survivor.state,
        to_state=survivor.state,
        note=note,
        data=data,
    )


def merge_referral(referral: Referral, *, by: Any, into: Referral, reason: str) -> Referral:
    """Fold ``referral`` into ``into`` (合并). 400 for itself, another office's referral, a survivor that
    is itself merged, or no reason."""
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("请填写合并原因。")]
    if into.pk == referral.pk:
        errors["into"] = [_("不能并入本案自身。")]
    elif into.origin_id != referral.origin_id:
        # Said as of an unknown id: whether another office's referral exists is not the user's to learn.
        errors["into"] = [str(NOT_FOUND)]
    elif into.merged_into_id is not None:
        errors["into"] = [_("%s 已并入其他案件，请并入其最终保留的案件。") % into.number]
    if errors:
        raise InvalidInput(errors)
    with step(referral, by=by, action="merge") as s:
        r = s.referral
        if r.merged.exists():
            raise NotAvailable(_("已有案件并入本案，本案不能再并入其他案件。"))
        r.merged_into, r.merged_at = into, s.now
        s.note = reason.strip()
    # Neither history names the other referral: a reader of one may not be allowed to know of the
    # other (its committee, say). The pointer (``merged_json``) and the list (``merged_from``) do, to
    # those who may see it.
    _note_on(into, by, "merged_in", reason.strip(), {})
    return referral


def unmerge_referral(referral: Referral, *, by: Any, note: str = "") -> Referral:
    """Undo the merge (撤销合并): the referral stands on its own again, as it was."""
    with step(referral, by=by, action="unmerge") as s:
        r = s.referral
        survivor = r.merged_into
        assert survivor is not None  # the action's ``when``
        r.merged_into, r.merged_at = None, None
        s.note = note
    _note_on(survivor, by, "merged_out", note, {})
    return referral


def merged_json(referral: Referral, user: AnyUser, full: bool = False) -> dict[str, Any] | None:
    """The pointer a merged referral answers with (the survivor, if the user may see it)."""
    if referral.merged_into_id is None:
        return None
    survivor = permissions.referrals_visible_to(user).filter(pk=referral.merged_into_id).first()
    return {
        # Null to whoever may not open the survivor: never an id of a referral the user may not see.
        "id": survivor.pk if survivor else None,
        "number": survivor.number if survivor else None,
        "merged_at": referral.merged_at.isoformat() if referral.merged_at else None,
    }


def merged_from(referral: Referral, user: AnyUser) -> list[Referral]:
    """The referrals merged into this one that the user may see."""
    return list(permissions.referrals_visible_to(user).filter(merged_into=referral).order_by("pk"))


def merge_panel(request: HttpRequest, referral: Referral) -> dict[str, Any] | None:
    """The referral page's word on a merge: the survivor it was folded into, or what was folded into it."""
    pointer = merged_json(referral, request.user)
    folded = merged_from(referral, request.user)
    if pointer is None and not folded:
        return None
    return {"pointer": pointer, "merged_at": referral.merged_at, "folded": folded}


def extension() -> Extension:
    from referrals.action_serializers import MergeSerializer, NoteSerializer
    from referrals.forms import MergeForm, NoteForm

    return Extension(
        name="merging",
        actions=(
            Action(
                "merge",
                gettext_lazy("合并"),
                who=may_merge,
                when=mergeable,
                run=merge_referral,
                form=MergeForm,
                serializer=MergeSerializer,
                order=125,
                confirm=gettext_lazy("确认将本案并入另一案件？并入后本案不再办理、不计入统计，可撤销合并。"),
                refused=gettext_lazy("已办结、已并入其他案件或已有案件并入的案件不能合并。"),
            ),
            Action(
                "unmerge",
                gettext_lazy("撤销合并"),
                who=may_merge,
                when=lambda r: r.merged_into_id is not None,
                run=unmerge_referral,
                form=NoteForm,
                serializer=NoteSerializer,
                order=126,
                refused=gettext_lazy("本案未并入其他案件。"),
            ),
        ),
        panels=(Panel("merge", "referrals/panel_merge.html", merge_panel, order=1),),
        events={
            "merged_in": gettext_lazy("并入案件"),
            "merged_out": gettext_lazy("撤销并入"),
        },
    )
