"""Request bodies of the referral's actions (``/api/referrals/{id}/actions/<name>/`` and the resources of
their own: leader, assignment, links), each the ``serializer`` of its registry row; named by
``referrals/serializers.py`` too."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from referrals.models import (
    Appeal,
    DeclineReason,
    LeaderCase,
    Party,
    Referral,
    ReferralLink,
)
from referrals.workflow import EXTENSION_DAYS, PETITION_EXTENSION_DAYS, ExtensionCap, PartyConsent
from townships.models import Mediator, Organisation
from townships.validators import validate_plausible_date

MAX_PARTIES = settings.FANGDIAO["MAX_PARTIES"]


class EmptySerializer(serializers.Serializer):
    pass


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TargetSerializer(NoteSerializer):
    target = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.select_related("region"))


class EscalateSerializer(serializers.Serializer):
    target = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.select_related("region"),
        help_text="a mediation committee of a higher tier above the referral's place (升级至)",
    )
    reason = serializers.CharField(max_length=500, help_text="升级调解的原因")


class MergeSerializer(serializers.Serializer):
    into = serializers.PrimaryKeyRelatedField(
        queryset=Referral.objects.all(),
        help_text="the referral of the same office to fold this one into (合并至)",
        error_messages={"does_not_exist": _("未找到可并入的本部门案件。")},
    )
    reason = serializers.CharField(max_length=500, help_text="合并原因")


class AcceptSerializer(NoteSerializer):
    mediators = serializers.ListField(child=serializers.IntegerField(), max_length=9, required=False, default=list)
    rights_explained = serializers.BooleanField(required=False, default=False)

    def validate_mediators(self, ids):
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError(_("调解员不能重复。"))
        found = Mediator.objects.in_bulk(ids)
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise serializers.ValidationError(_("未找到调解员：%s") % ", ".join(map(str, unknown)))
        return [found[i] for i in ids]


class DeclineSerializer(NoteSerializer):
    reason = serializers.ChoiceField(choices=DeclineReason.choices)


class ExtensionConsentSerializer(serializers.Serializer):
    """One party's consent to an extension, recorded as the consent to mediation is."""

    party = serializers.IntegerField(min_value=1, help_text="the party's id (parties[].id of the referral)")
    consented_on = serializers.DateField(validators=[validate_plausible_date], help_text="同意延期日期")
    method = serializers.ChoiceField(choices=Party.STAFF_CONSENT_CHOICES, help_text="同意方式")


def _days_field(cap: ExtensionCap) -> serializers.IntegerField:
    # The workflow's cap (a setting), with its words: documented in the schema, refused as a 400 with them.
    message = cap.message()
    return serializers.IntegerField(
        min_value=1, max_value=cap.limit, error_messages=dict.fromkeys(("min_value", "max_value"), message)
    )


class ExtendSerializer(serializers.Serializer):
    days = _days_field(EXTENSION_DAYS)
    reason = serializers.CharField(max_length=500)
    consents = ExtensionConsentSerializer(
        many=True,
        required=False,
        default=list,
        max_length=MAX_PARTIES,
        help_text="每名当事人同意延期: one entry per party of the referral, each required",
    )
    # Replaced by ``consents``: one yes for all parties said neither who consented, nor when, nor how,
    # and cannot be turned into per-party records honestly. Refused with a message naming the new field.
    parties_consented = serializers.BooleanField(required=False, help_text="no longer accepted: use consents")

    def validate_consents(self, consents):
        parties = [c["party"] for c in consents]
        if len(set(parties)) != len(parties):
            raise serializers.ValidationError(_("同一当事人的同意只能登记一次。"))
        return [PartyConsent(**c) for c in consents]

    def validate(self, attrs):
        # Sent at all, true or false (an absent form checkbox reads as false: that is not sending it).
        attrs.pop("parties_consented", None)
        if "parties_consented" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "parties_consented": [
                        _(
                            "不再接受 parties_consented：请在 consents 中逐一登记每名当事人同意延期的日期和方式，"
                            '如 [{"party": 当事人id, "consented_on": "2026-01-05", "method": "written"}]。'
                        )
                    ]
                }
            )
        return attrs


class ExtendPetitionSerializer(serializers.Serializer):
    """延长信访办理期限 (信访工作条例 Art. 34): once, approved by the office's head."""

    days = _days_field(PETITION_EXTENSION_DAYS)
    reason = serializers.CharField(max_length=500)
    approved_by_name = serializers.CharField(max_length=100, help_text="批准人: the head of the office who approved")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LeaderSerializer(serializers.Serializer):
    """列入领导包案 (``referrals/leader_cases.py`` checks the values and names every mistake)."""

    name = serializers.CharField(
        max_length=50,
        help_text="the leader's name (包案领导)",
        error_messages={key: _("请填写包案领导的姓名。") for key in ("required", "blank", "null")},
    )
    post = serializers.CharField(
        max_length=100,
        help_text="the leader's post (职务), e.g. 区委副书记",
        error_messages={key: _("请填写包案领导的职务。") for key in ("required", "blank", "null")},
    )
    level = serializers.ChoiceField(choices=LeaderCase.Level.choices, help_text="city 市级, county 县级, township 镇级")
    assigned_on = serializers.DateField(help_text="the day the case was assigned; its year is the list's year")


class LeaderRemovalSerializer(serializers.Serializer):
    """撤出领导包案: the reason is required."""

    reason = serializers.CharField(
        max_length=500,
        help_text="why the case is taken off the list (kept with the entry)",
        error_messages={key: _("请填写撤出包案的原因。") for key in ("required", "blank", "null")},
    )


class ReportBackSerializer(serializers.Serializer):
    """上报办结: JSON, or multipart with the report as ``file``."""

    reported_on = serializers.DateField(
        help_text="the day the report was sent",
        error_messages={key: _("请填写上报日期。") for key in ("required", "null")},
    )
    report = serializers.CharField(
        max_length=2000,
        help_text="what was reported (办理结果摘要)",
        error_messages={key: _("请填写上报内容（办理结果摘要）。") for key in ("required", "blank", "null")},
    )
    file = serializers.FileField(
        required=False, allow_null=True, default=None, help_text="the report as sent: PDF, image or Word, ≤ 20 MB"
    )


class LinkSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="the other referral's id (one you may see; 404 otherwise)")
    kind = serializers.ChoiceField(
        choices=ReferralLink.Kind.choices, help_text="same_dispute 同一纠纷, related 相关纠纷"
    )


class UnlinkSerializer(serializers.Serializer):
    other = serializers.IntegerField()


# --- Output ----------------------------------------------------------------------------------
# Schema-only serializers: they describe the JSON the method fields below return, so that
# /api/schema/ tells clients (and schemathesis) the real shape.


def _date_messages(missing: str) -> dict[str, str]:
    return {"required": missing, "null": missing, "invalid": _("请输入有效的日期，格式为 YYYY-MM-DD。")}


class ReplySerializer(serializers.Serializer):
    """答复意见送达: the day the petitioner received the written reply."""

    delivered_on = serializers.DateField(error_messages=_date_messages(_("请填写答复意见送达日期。")))


class RegisterAppealSerializer(serializers.Serializer):
    """A 复查 or 复核 request (whichever is next for the referral)."""

    kind = serializers.ChoiceField(
        choices=Appeal.Kind.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="review 复查 or re_review 复核; left out: whichever is next (400 if it is not the next)",
    )
    requested_on = serializers.DateField(
        help_text="the day the office received the request",
        error_messages=_date_messages(_("请填写收到申请的日期。")),
    )
    grounds = serializers.CharField(
        max_length=2000, allow_blank=True, help_text="the petitioner's request and reasons (申请理由)"
    )
    lawyer = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="a lawyer of the keeping office's active roster"
    )
    body = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="the deciding body, when the office above is not in this system (e.g. 广东省信访局)",
    )


class AnswerAppealSerializer(serializers.Serializer):
    """复查 / 复核 意见 (or, without an outcome, a hearing's days): JSON, or multipart with ``document``."""

    outcome = serializers.ChoiceField(
        choices=Appeal.Outcome.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="upheld 维持, "
        "changed 变更, revoked 撤销, withdrawn 申请人撤回; left out with hearing_days: records the hearing only",
    )
    decided_on = serializers.DateField(
        required=False, allow_null=True, default=None, error_messages=_date_messages(_("请填写意见日期。"))
    )
    opinion = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    delivered_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the day the opinion reached the petitioner (opens the 复核 window)",
        error_messages=_date_messages(""),
    )
    hearing_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="days of a hearing (听证), not counted in the clock"
    )
    document = serializers.FileField(
        required=False, allow_null=True, default=None, help_text="the opinion as issued: PDF, image or Word"
    )
