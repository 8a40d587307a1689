"""JSON shapes of the mediation records (docs/api.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mediation.dossier import REQUESTABLE
from mediation.models import Agreement, Attachment, DossierItem, FollowUp, MediationSession, SupervisionOrder
from mediation.workflow import NOT_ON_LAWYER_ROSTER, NOT_ON_ROSTER, AgreementInput
from referrals.models import Lawyer, LegalRoute, TerminationReason
from townships.models import Mediator

PERSON_REF_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}


@extend_schema_field(PERSON_REF_SCHEMA)
class PersonRefField(serializers.Field):
    def to_representation(self, user):
        return {"id": user.pk, "name": user.get_full_name() or user.get_username()} if user else None


class SessionSerializer(serializers.ModelSerializer):
    mediators = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Mediator.objects.all(),
        required=False,
        help_text="roster ids of mediators present",
        error_messages={"does_not_exist": NOT_ON_ROSTER},
    )
    lawyers = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Lawyer.objects.all(),
        required=False,
        help_text="ids of lawyers of the origin petition office's roster who took part (律师参与调解)",
        error_messages={"does_not_exist": NOT_ON_LAWYER_ROSTER},
    )
    created_by = PersonRefField(read_only=True)

    class Meta:
        model = MediationSession
        fields = [
            "id",
            "round",
            "held_on",
            "location",
            "mediators",
            "lawyers",
            "participants",
            "record",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "round", "created_by", "created_at"]
        extra_kwargs = {
            "location": {"max_length": 200},
            "participants": {"max_length": 1000},
            "record": {"max_length": 10000},
        }


class AgreementInputSerializer(serializers.Serializer):
    form = serializers.ChoiceField(choices=Agreement.Form.choices, required=False, allow_blank=True, default="")
    terms = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0, default=None
    )
    performance_method = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    performance_place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    performance_due = serializers.DateField(required=False, allow_null=True, default=None)
    signed_on = serializers.DateField(required=False, allow_null=True, default=None)


class SucceedSerializer(serializers.Serializer):
    # Optional here so that a request without an agreement lists each of its missing elements.
    agreement = AgreementInputSerializer(required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        empty = AgreementInputSerializer(data={})
        empty.is_valid()
        attrs["agreement"] = AgreementInput(**{**empty.validated_data, **attrs.get("agreement", {})})
        return attrs


class FailSerializer(serializers.Serializer):
    # Optional here so that a missing reason is listed with every other missing element.
    reason = serializers.ChoiceField(choices=TerminationReason.choices, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    routes_explained = serializers.ListField(
        child=serializers.ChoiceField(choices=LegalRoute.choices),
        required=False,
        default=list,
        max_length=len(LegalRoute.values),
    )
    no_session_note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AgreementSerializer(serializers.ModelSerializer):
    confirmation_deadline = serializers.DateField(
        read_only=True, allow_null=True, help_text="null for an oral agreement: only a written one can be confirmed"
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "round",
            "number",
            "form",
            "terms",
            "amount",
            "performance_method",
            "performance_place",
            "performance_due",
            "signed_on",
            "effective_on",
            "performance",
            "performance_recorded_on",
            "confirmation_applied_on",
            "confirmation_court",
            "confirmation_result",
            "confirmation_ruling_on",
            "confirmation_deadline",
        ]


class AgreementProgressSerializer(serializers.Serializer):
    performance = serializers.ChoiceField(choices=Agreement.Performance.choices, required=False)
    performance_recorded_on = serializers.DateField(required=False, allow_null=True, default=None)
    confirmation_applied_on = serializers.DateField(required=False, allow_null=True, default=None)
    confirmation_court = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    confirmation_result = serializers.ChoiceField(
        choices=Agreement.ConfirmationResult.choices, required=False, allow_blank=True, default=""
    )
    confirmation_ruling_on = serializers.DateField(required=False, allow_null=True, default=None)


class FollowUpSerializer(serializers.ModelSerializer):
    by = PersonRefField(read_only=True)

    class Meta:
        model = FollowUp
        fields = ["id", "visited_on", "method", "satisfaction", "performance", "note", "by", "created_at"]
        read_only_fields = ["id", "by", "created_at"]
        extra_kwargs = {"note": {"max_length": 2000}}


class SupervisionSerializer(serializers.ModelSerializer):
    issued_by = PersonRefField(read_only=True)
    responded_by = PersonRefField(read_only=True)
    addressed_to = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = SupervisionOrder
        fields = [
            "id",
            "kind",
            "note",
            "respond_by",
            "issued_by",
            "issued_at",
            "addressed_to",
            "response",
            "responded_by",
            "responded_at",
            "overdue",
        ]
        # The issuer writes the order; its answer comes through ``ResponseSerializer``.
        read_only_fields = [f for f in fields if f not in ("kind", "note", "respond_by")]
        extra_kwargs = {"note": {"max_length": 2000}, "kind": {"required": False}}

    @extend_schema_field(PERSON_REF_SCHEMA)
    def get_addressed_to(self, obj):
        return {"id": obj.addressed_to_id, "name": obj.addressed_to.name} if obj.addressed_to_id else None

    def get_overdue(self, obj) -> bool:
        from django.utils import timezone

        return obj.overdue(timezone.localdate())


class ResponseSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=2000)


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = PersonRefField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "kind_label",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "url",
        ]

    def get_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("mediation:attachment", args=[obj.referral_id, obj.pk])


class CorrectionSerializer(serializers.Serializer):
    """``request_correction`` (退回补正): the dossier papers wanted, and why."""

    # Not required here, so that an empty request gets the workflow's own words.
    items = serializers.ListField(
        child=serializers.ChoiceField(choices=[(i, DossierItem(i).label) for i in REQUESTABLE]),
        required=False,
        default=list,
        max_length=len(REQUESTABLE),
        help_text="dossier item codes (not register_form or back_cover, which the system makes)",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DossierItem.choices)
    file = serializers.FileField(
        allow_empty_file=False, max_length=200, help_text=_("PDF、JPEG、PNG 或 Office 文档，不超过20MB")
    )
