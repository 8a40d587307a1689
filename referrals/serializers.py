"""JSON shapes of DESIGN.md §6 for referrals, organisations and rosters."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referrals import permissions
from referrals.deadlines import deadline_as_dict
from referrals.extensions import SECTIONS
from referrals.models import DeclineReason, Exclusion, Party, Referral, ScopeGround, State, TimelineEvent
from referrals.workflow import PartyInput, ReferralInput
from townships.categories import Category
from townships.models import Mediator, Organisation
from townships.validators import (
    mask_address,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
    validate_plausible_date,
)

MAX_PARTIES = 20


def _django_errors(exc: DjangoValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class OrganisationSerializer(serializers.ModelSerializer):
    region = RegionSerializer()
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "kind_label", "committee_type", "region", "accepts_referrals"]


class MediatorSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField()
    mobile = serializers.SerializerMethodField()
    committee = OrganisationRefSerializer()

    class Meta:
        model = Mediator
        fields = [
            "id",
            "name",
            "sex",
            "id_number",
            "mobile",
            "position",
            "employment",
            "specialities",
            "active",
            "committee",
        ]

    def get_id_number(self, obj: Mediator) -> str:
        return mask_id_number(obj.id_number)

    def get_mobile(self, obj: Mediator) -> str:
        # Committees call their own mediators; everyone else sees the masked number.
        member_of = permissions.grants_of(self.context["request"].user).orgs("view_org_referrals")
        return obj.mobile if obj.committee_id in member_of else mask_phone(obj.mobile)


# --- Input -----------------------------------------------------------------------------------


class ConsentSerializer(serializers.Serializer):
    given_on = serializers.DateField(validators=[validate_plausible_date])
    method = serializers.ChoiceField(choices=Party.ConsentMethod.choices)


class PartyInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Party.Role.choices)
    kind = serializers.ChoiceField(choices=Party.Kind.choices, default=Party.Kind.PERSON)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    consent = ConsentSerializer(required=False, allow_null=True)

    def validate(self, attrs):
        errors = {}
        if attrs.get("id_number"):
            if attrs.get("kind") == Party.Kind.PERSON:
                try:
                    attrs["id_number"] = validate_id_number(attrs["id_number"])
                except DjangoValidationError as exc:
                    errors["id_number"] = _django_errors(exc)
            elif len(attrs["id_number"].strip()) != 18:
                errors["id_number"] = [_("统一社会信用代码应为18位。")]
            else:
                attrs["id_number"] = attrs["id_number"].strip().upper()
        if attrs.get("phone"):
            try:
                attrs["phone"] = validate_phone(attrs["phone"])
            except DjangoValidationError as exc:
                errors["phone"] = _django_errors(exc)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_input(self, attrs) -> PartyInput:
        consent = attrs.get("consent") or {}
        return PartyInput(
            role=attrs["role"],
            kind=attrs["kind"],
            name=attrs["name"].strip(),
            id_number=attrs.get("id_number", ""),
            phone=attrs.get("phone", ""),
            address=attrs.get("address", "").strip(),
            consent_given_on=consent.get("given_on"),
            consent_method=consent.get("method", ""),
        )


class ScopeSerializer(serializers.Serializer):
    ground = serializers.ChoiceField(choices=ScopeGround.choices, required=False, allow_blank=True, default="")
    exclusions_confirmed_absent = serializers.BooleanField(required=False, default=False)
    exclusions_absent = serializers.ListField(
        child=serializers.ChoiceField(choices=Exclusion.choices), required=False, max_length=len(Exclusion.values)
    )


class ReferralWriteSerializer(serializers.Serializer):
    """Draft data for ``POST /api/referrals/`` and ``PATCH /api/referrals/{id}/``."""

    received_on = serializers.DateField(validators=[validate_plausible_date])
    petition_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Category.choices)
    summary = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    claims = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    target = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.select_related("region"), required=False, allow_null=True, default=None
    )
    scope = ScopeSerializer(required=False)
    parties = PartyInputSerializer(many=True, required=False, default=list)

    def validate_target(self, target):
        if target is not None and not target.accepts_referrals:
            raise serializers.ValidationError(_("%s不能接收移交案件。") % target.name)
        return target

    def validate_parties(self, parties):
        if len(parties) > MAX_PARTIES:
            raise serializers.ValidationError(_("当事人最多%d名。") % MAX_PARTIES)
        return parties

    def to_input(self) -> ReferralInput:
        data = self.validated_data
        scope = data.get("scope") or {}
        if scope.get("exclusions_confirmed_absent"):
            exclusions = list(Exclusion.values)
        else:
            exclusions = list(scope.get("exclusions_absent") or [])
        party_serializer = PartyInputSerializer()
        return ReferralInput(
            received_on=data["received_on"],
            category=data["category"],
            summary=data.get("summary", "").strip(),
            claims=data.get("claims", "").strip(),
            petition_no=data.get("petition_no", "").strip(),
            target=data.get("target"),
            scope_ground=scope.get("ground", ""),
            exclusions_absent=exclusions,
            parties=[party_serializer.to_input(p) for p in data.get("parties", [])],
        )


class EmptySerializer(serializers.Serializer):
    pass


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TargetSerializer(NoteSerializer):
    target = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.select_related("region"))


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


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365)
    reason = serializers.CharField(max_length=500)
    parties_consented = serializers.BooleanField(required=False, default=False)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- Output ----------------------------------------------------------------------------------
# Schema-only serializers: they describe the JSON the method fields below return, so that
# /api/schema/ tells clients (and schemathesis) the real shape.


class ScopeOut(serializers.Serializer):
    ground = serializers.CharField()
    exclusions_absent = serializers.ListField(child=serializers.CharField())
    exclusions_confirmed_absent = serializers.BooleanField()


class ConsentOut(serializers.Serializer):
    given_on = serializers.DateField()
    method = serializers.ChoiceField(choices=Party.ConsentMethod.choices)


class MediatorRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    lead = serializers.BooleanField()


class DeadlineOut(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=["on_time", "due_soon", "overdue"], allow_null=True)
    provisional = serializers.BooleanField()
    paused = serializers.BooleanField()


class PersonRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartySerializer(serializers.ModelSerializer):
    consent = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = ["id", "role", "kind", "name", "id_number", "phone", "address", "consent"]

    @extend_schema_field(ConsentOut(allow_null=True))
    def get_consent(self, obj: Party):
        if not obj.consent_given_on:
            return None
        return {"given_on": obj.consent_given_on.isoformat(), "method": obj.consent_method}


def party_json(party: Party, *, full: bool) -> dict:
    """The shape of ``PartySerializer``, written directly: a list page has fifty parties and
    building a serializer for each cost more than the rest of the page."""
    return {
        "id": party.pk,
        "role": party.role,
        "kind": party.kind,
        "name": party.name,
        "id_number": party.id_number if full else mask_id_number(party.id_number),
        "phone": party.phone if full else mask_phone(party.phone),
        "address": party.address if full else mask_address(party.address),
        "consent": {"given_on": party.consent_given_on.isoformat(), "method": party.consent_method}
        if party.consent_given_on
        else None,
    }


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as one user sees it: personal data masked unless they handle it."""

    state_label = serializers.SerializerMethodField()
    category_label = serializers.SerializerMethodField()
    origin = OrganisationRefSerializer()
    target = OrganisationRefSerializer(allow_null=True)
    region = RegionSerializer()
    scope = serializers.SerializerMethodField()
    parties = serializers.SerializerMethodField()
    mediators = serializers.SerializerMethodField()
    deadline = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    personal_data = serializers.SerializerMethodField()
    repeat_of = serializers.SerializerMethodField()
    # Filled by the mediation app through referrals/extensions.py (DESIGN.md §2: no import here).
    agreement = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "number",
            "petition_no",
            "state",
            "state_label",
            "category",
            "category_label",
            "summary",
            "claims",
            "received_on",
            "origin",
            "target",
            "region",
            "scope",
            "parties",
            "mediators",
            "deadline",
            "petition_due_on",
            "round",
            "returns_count",
            "ping_pong",
            "repeat_of",
            "suspended_since",
            "extension_days",
            "review_note",
            "submitted_at",
            "accepted_at",
            "concluded_at",
            "closed_at",
            "available_actions",
            "personal_data",
            "agreement",
            "outcome",
            "created_at",
            "updated_at",
        ]

    def _user(self):
        return self.context["request"].user

    def _full(self, obj: Referral) -> bool:
        cache = self.context.setdefault("_full", {})
        if obj.pk not in cache:
            cache[obj.pk] = permissions.can_see_personal_data(self._user(), obj)
        return cache[obj.pk]

    # Plain dict look-ups: Django's get_FOO_display rebuilds the choices dict on every call.
    def get_state_label(self, obj: Referral) -> str:
        return str(STATE_LABELS.get(obj.state, obj.state))

    def get_category_label(self, obj: Referral) -> str:
        return str(CATEGORY_LABELS.get(obj.category, obj.category))

    @extend_schema_field(ScopeOut)
    def get_scope(self, obj: Referral):
        return {
            "ground": obj.scope_ground,
            "exclusions_absent": obj.exclusions_absent,
            "exclusions_confirmed_absent": set(obj.exclusions_absent) >= set(Exclusion.values),
        }

    @extend_schema_field(PartySerializer(many=True))
    def get_parties(self, obj: Referral):
        full = self._full(obj)
        return [party_json(p, full=full) for p in obj.parties.all()]

    @extend_schema_field(MediatorRefOut(many=True))
    def get_mediators(self, obj: Referral):
        lead = obj.lead_mediator_id
        people = sorted(obj.mediators.all(), key=lambda m: (m.pk != lead, m.name))
        return [{"id": m.pk, "name": m.name, "lead": m.pk == lead} for m in people]

    @extend_schema_field(DeadlineOut(allow_null=True))
    def get_deadline(self, obj: Referral):
        return deadline_as_dict(obj)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, obj: Referral):
        return permissions.available_actions(self._user(), obj)

    @extend_schema_field(serializers.ChoiceField(choices=["full", "masked"]))
    def get_personal_data(self, obj: Referral) -> str:
        return "full" if self._full(obj) else "masked"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_repeat_of(self, obj: Referral):
        return obj.repeat_of_id

    def _section(self, name: str, obj: Referral):
        section = SECTIONS.get(name)
        return section.serialize(obj, self._user(), self._full(obj)) if section else None

    @extend_schema_field({**{"type": "object", "additionalProperties": True}, "nullable": True})
    def get_agreement(self, obj: Referral):
        return self._section("agreement", obj)

    @extend_schema_field({**{"type": "object", "additionalProperties": True}, "nullable": True})
    def get_outcome(self, obj: Referral):
        return self._section("outcome", obj)


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    action_label = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEvent
        fields = ["id", "at", "actor", "action", "action_label", "from_state", "to_state", "note", "data"]

    @extend_schema_field(PersonRefOut(allow_null=True))
    def get_actor(self, obj: TimelineEvent):
        if obj.actor is None:
            return None
        return {"id": obj.actor_id, "name": obj.actor.get_full_name() or obj.actor.get_username()}

    def get_action_label(self, obj: TimelineEvent) -> str:
        from referrals.timeline import action_label

        return action_label(obj.action)


STATE_LABELS = dict(State.choices)
CATEGORY_LABELS = dict(Category.choices)
