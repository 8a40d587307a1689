"""JSON shapes of docs/api.md for referrals, organisations and rosters."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referrals import ethnic_groups, permissions, repeats
from referrals.action_serializers import (  # noqa: F401 (the registry rows name them here)
    AcceptSerializer,
    CloseSerializer,
    DeclineSerializer,
    EmptySerializer,
    EscalateSerializer,
    ExtendPetitionSerializer,
    ExtendSerializer,
    ExtensionConsentSerializer,
    LeaderRemovalSerializer,
    LeaderSerializer,
    LinkSerializer,
    MergeSerializer,
    NoteSerializer,
    ReasonSerializer,
    ReportBackSerializer,
    TargetSerializer,
    UnlinkSerializer,
)
from referrals.deadlines import FOLLOWED_UP, deadline_as_dict, followup_clock_as_dict, petition_clock_as_dict
from referrals.errors import InvalidInput
from referrals.intake import (
    PartyInput,
    ReferralInput,
    acceptance_warning,
    clean_party,
    petition_acceptance_errors,
)
from referrals.leader_cases import leader_json
from referrals.merging import merged_from, merged_json
from referrals.models import (
    Assignment,
    DeadlineStatus,
    Exclusion,
    LeaderCase,
    Party,
    Referral,
    ReferralLink,
    ScopeGround,
    State,
    TimelineEvent,
)
from referrals.registry import registry
from townships.categories import Category
from townships.models import Mediator, Organisation
from townships.roles import RosterMasks
from townships.validators import (
    mask_address,
    mask_id_number,
    mask_phone,
    validate_name,
    validate_plausible_date,
)

if TYPE_CHECKING:
    from django.http import QueryDict
    from rest_framework.request import Request

MAX_PARTIES = settings.FANGDIAO["MAX_PARTIES"]
T = TypeVar("T")


def _django_errors(exc: DjangoValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def read_query(parse: Callable[[QueryDict], T], request: Request) -> T:
    """What ``parse`` reads from the query string (a report's scope, a period); a mistake answers 400
    as a body's would (``ValidationError``), naming each parameter."""
    try:
        return parse(request.query_params)
    except InvalidInput as exc:
        raise serializers.ValidationError(exc.errors) from None


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

    def _masks(self) -> RosterMasks:
        if "_roster_masks" not in self.context:
            self.context["_roster_masks"] = RosterMasks(self.context["request"].user)
        return self.context["_roster_masks"]

    def get_id_number(self, obj: Mediator) -> str:
        return self._masks().id_number(obj)

    def get_mobile(self, obj: Mediator) -> str:
        return self._masks().mobile(obj)


# --- Input -----------------------------------------------------------------------------------


class ConsentSerializer(serializers.Serializer):
    given_on = serializers.DateField(validators=[validate_plausible_date])
    # ``online`` only as the party gave it (kept on a draft's edit); intake refuses it written anew.
    method = serializers.ChoiceField(choices=Party.ConsentMethod.choices)


class PartyInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Party.Role.choices)
    kind = serializers.ChoiceField(choices=Party.Kind.choices, default=Party.Kind.PERSON)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    ethnicity = serializers.ChoiceField(
        choices=ethnic_groups.CHOICES, required=False, allow_blank=True, default="", help_text="民族, persons only"
    )
    consent = ConsentSerializer(required=False, allow_null=True)

    def validate_name(self, value: str) -> str:
        try:
            return validate_name(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc)) from None

    def validate(self, attrs):
        attrs["id_number"], attrs["phone"], errors = clean_party(
            attrs.get("kind", ""), attrs.get("id_number", ""), attrs.get("phone", ""), attrs.get("ethnicity", "")
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_input(self, attrs) -> PartyInput:
        consent = attrs.get("consent") or {}
        return PartyInput.from_values(
            attrs, consent_given_on=consent.get("given_on"), consent_method=consent.get("method", "")
        )


class ScopeSerializer(serializers.Serializer):
    ground = serializers.ChoiceField(choices=ScopeGround.choices, required=False, allow_blank=True, default="")
    exclusions_confirmed_absent = serializers.BooleanField(required=False, default=False)
    exclusions_absent = serializers.ListField(
        child=serializers.ChoiceField(choices=Exclusion.choices), required=False, max_length=len(Exclusion.values)
    )


class AssignmentSerializer(serializers.Serializer):
    """交办件 (``referrals/assignments.py`` checks the values and names every mistake)."""

    level = serializers.ChoiceField(
        choices=Assignment.Level.choices, help_text="national 国家信访局, provincial 省信访局, city 市信访局"
    )
    batch = serializers.CharField(
        max_length=50,
        help_text="the batch as the bureau numbers it, e.g. 2026年第3批",
        error_messages={key: _("请填写交办批次，例如“2026年第3批”。") for key in ("required", "blank", "null")},
    )
    assigned_on = serializers.DateField(help_text="the day the bureau handed the case down")
    report_due_on = serializers.DateField(help_text="the day the handling must be reported back by (上报期限)")


class ReferralWriteSerializer(serializers.Serializer):
    """Draft data for ``POST /api/referrals/`` and ``PATCH /api/referrals/{id}/``."""

    received_on = serializers.DateField(validators=[validate_plausible_date])
    petition_accepted_on = serializers.DateField(
        validators=[validate_plausible_date],
        required=False,
        allow_null=True,
        default=None,
        help_text="受理日期: the office's acceptance, start of the 60-day petition clock; not before "
        "received_on; omitted or null: received_on. Later than 15 days after receipt is accepted with a "
        "warning (`warnings`).",
    )
    petition_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Category.choices)
    summary = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    claims = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    target = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.select_related("region"), required=False, allow_null=True, default=None
    )
    scope = ScopeSerializer(required=False)
    parties = PartyInputSerializer(many=True, required=False, default=list)
    assigned_by = AssignmentSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="交办件: registers the draft with its assignment (create only; later: "
        "POST /api/referrals/{id}/assignment/)",
    )

    def validate_target(self, target):
        if target is not None and not target.accepts_referrals:
            raise serializers.ValidationError(_("%s不能接收移交案件。") % target.name)
        return target

    def validate_parties(self, parties):
        if len(parties) > MAX_PARTIES:
            raise serializers.ValidationError(_("当事人最多%d名。") % MAX_PARTIES)
        return parties

    def validate(self, attrs):
        errors = petition_acceptance_errors(attrs.get("received_on"), attrs.get("petition_accepted_on"))
        if errors:
            raise serializers.ValidationError({"petition_accepted_on": errors})
        return attrs

    def to_input(self) -> ReferralInput:
        data = self.validated_data
        scope = data.get("scope") or {}
        if scope.get("exclusions_confirmed_absent"):
            exclusions = list(Exclusion.values)
        else:
            exclusions = list(scope.get("exclusions_absent") or [])
        party_serializer = PartyInputSerializer()
        return ReferralInput.from_values(
            data,
            scope_ground=scope.get("ground", ""),
            exclusions_absent=exclusions,
            parties=[party_serializer.to_input(p) for p in data.get("parties", [])],
        )


class MergedOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    number = serializers.CharField(allow_null=True)
    merged_at = serializers.DateTimeField(allow_null=True)


class RefOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class LeaderOut(serializers.Serializer):
    name = serializers.CharField()
    post = serializers.CharField()
    level = serializers.ChoiceField(choices=LeaderCase.Level.choices)
    level_label = serializers.CharField()
    assigned_on = serializers.DateField()
    year = serializers.IntegerField()


# A referral in another thing's list (``refs.referral_item``). No docstring: the schema would give it
# to every list's component as its description.
class ReferralItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()


class LinkOut(ReferralItemOut):
    kind = serializers.ChoiceField(choices=ReferralLink.Kind.choices)
    kind_label = serializers.CharField()


class AssignmentOut(serializers.Serializer):
    level = serializers.ChoiceField(choices=Assignment.Level.choices)
    level_label = serializers.CharField()
    batch = serializers.CharField()
    assigned_on = serializers.DateField()
    report_due_on = serializers.DateField()
    report_overdue = serializers.BooleanField(help_text="not reported and report_due_on has passed")
    reported_on = serializers.DateField(allow_null=True)
    report = serializers.CharField(allow_null=True)
    report_file = serializers.CharField(allow_null=True, help_text="download URL of the report as sent")


class ScopeOut(serializers.Serializer):
    ground = serializers.CharField()
    exclusions_absent = serializers.ListField(child=serializers.CharField())
    exclusions_confirmed_absent = serializers.BooleanField()


class ConsentOut(serializers.Serializer):
    given_on = serializers.DateField()
    method = serializers.ChoiceField(choices=Party.STAFF_CONSENT_CHOICES)


class MediatorRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    lead = serializers.BooleanField()


class DeadlineOut(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=DeadlineStatus.choices, allow_null=True)
    provisional = serializers.BooleanField()
    paused = serializers.BooleanField()


class PetitionClockOut(serializers.Serializer):
    """The petition's own clock (信访工作条例 Art. 34), beside the current stage's ``deadline``."""

    accepted_on = serializers.DateField(help_text="受理日期: the clock's first day (not counted)")
    due_on = serializers.DateField(help_text="60 days from accepted_on plus extended_days, rolled past rest days")
    extended_days = serializers.IntegerField(help_text="the one extension, 0 to 30 days")
    status = serializers.ChoiceField(
        choices=DeadlineStatus.choices,
        help_text="now; for a closed referral, whether it was closed by due_on",
    )


class FollowupClockOut(serializers.Serializer):
    """The follow-up clock (回访期限) of the concluded round; null before a conclusion and after reopening."""

    due_on = serializers.DateField(
        help_text="CLOCK_FOLLOWUP_DAYS (30) calendar days from the conclusion, the last day rolled past rest days"
    )
    provisional = serializers.BooleanField(help_text="a day it counted is not confirmed in the calendar")
    followed_up_on = serializers.DateField(allow_null=True, help_text="the round's first follow-up visit")
    status = serializers.ChoiceField(
        choices=[*DeadlineStatus.choices, (FOLLOWED_UP, _("已回访"))],
        help_text="done once visited; otherwise on_time, due_soon or overdue now",
    )


class WarningOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=["late_petition_acceptance"])
    message = serializers.CharField()


class PersonRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RepeatOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    kind = serializers.ChoiceField(choices=[repeats.SAME_DISPUTE, repeats.SAME_PERSON])
    concluded_on = serializers.DateField(allow_null=True)


class PartySerializer(serializers.ModelSerializer):
    consent = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = ["id", "role", "kind", "name", "id_number", "phone", "address", "ethnicity", "consent"]

    @extend_schema_field(ConsentOut(allow_null=True))
    def get_consent(self, obj: Party):
        if not obj.consent_given_on:
            return None
        return {"given_on": obj.consent_given_on.isoformat(), "method": obj.consent_method}


def contact(party: Any, *, full: bool) -> tuple[str, str, str]:
    """A party's ID number, phone and address as this user may see them: in full for those who
    handle the referral, masked for everyone else (``permissions.can_see_personal_data``)."""
    if full:
        return party.id_number, party.phone, party.address
    return mask_id_number(party.id_number), mask_phone(party.phone), mask_address(party.address)


def party_json(party: Party, *, full: bool) -> dict:
    """The shape of ``PartySerializer``, written directly: a list page has fifty parties and
    building a serializer for each cost more than the rest of the page."""
    id_number, phone, address = contact(party, full=full)
    return {
        "id": party.pk,
        "role": party.role,
        "kind": party.kind,
        "name": party.name,
        "id_number": id_number,
        "phone": phone,
        "address": address,
        # Shown with the full personal data only, like the sex and birth date the documents print.
        "ethnicity": party.ethnicity if full else "",
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
    petition_clock = serializers.SerializerMethodField()
    followup_clock = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    personal_data = serializers.SerializerMethodField()
    repeat_of = serializers.SerializerMethodField()
    merged_into = serializers.SerializerMethodField()
    merged_from = serializers.SerializerMethodField()
    possible_repeats = serializers.SerializerMethodField()
    # Filled by the mediation app through its Extension (referrals/registry.py; no import here).
    agreement = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    correction = serializers.SerializerMethodField()
    leader = serializers.SerializerMethodField()
    assigned_by = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    appeals = serializers.SerializerMethodField()

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
            "petition_clock",
            "followup_due_on",
            "followup_clock",
            "warnings",
            "round",
            "tier",
            "escalated_from",
            "escalated_at",
            "returns_count",
            "ping_pong",
            "repeat_of",
            "merged_into",
            "merged_from",
            "possible_repeats",
            "suspended_since",
            "extension_days",
            "review_note",
            "urge_count",
            "submitted_at",
            "accepted_at",
            "concluded_at",
            "closed_at",
            "available_actions",
            "personal_data",
            "agreement",
            "outcome",
            "correction",
            "leader",
            "assigned_by",
            "links",
            "appeals",
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

    @extend_schema_field(PetitionClockOut)
    def get_petition_clock(self, obj: Referral):
        return petition_clock_as_dict(obj)

    @extend_schema_field(FollowupClockOut(allow_null=True))
    def get_followup_clock(self, obj: Referral):
        return followup_clock_as_dict(obj)

    @extend_schema_field(WarningOut(many=True))
    def get_warnings(self, obj: Referral):
        late = acceptance_warning(obj.received_on, obj.petition_accepted_on)
        return [{"code": "late_petition_acceptance", "message": late}] if late else []

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, obj: Referral):
        return permissions.available_actions(self._user(), obj)

    @extend_schema_field(serializers.ChoiceField(choices=["full", "masked"]))
    def get_personal_data(self, obj: Referral) -> str:
        return "full" if self._full(obj) else "masked"

    def _repeats(self, obj: Referral) -> repeats.RepeatCheck | None:
        """The repeat check, worked out for one referral's detail only (a list would pay it per row)."""
        if not self.context.get("detail"):
            return None
        cache = self.context.setdefault("_repeats", {})
        if obj.pk not in cache:
            cache[obj.pk] = repeats.check(obj, user=self._user())
        return cache[obj.pk]

    @extend_schema_field(MergedOut(allow_null=True))
    def get_merged_into(self, obj: Referral):
        """合并: the survivor this referral was folded into (its id and number only to those who may see it)."""
        return merged_json(obj, self._user())

    @extend_schema_field(RefOut(many=True, allow_null=True))
    def get_merged_from(self, obj: Referral):
        """The referrals folded into this one that the user may see; a referral's detail only."""
        if not self.context.get("detail"):
            return None
        return [{"id": r.pk, "number": r.number} for r in merged_from(obj, self._user())]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_repeat_of(self, obj: Referral):
        """The best earlier match this user may see (detail), or the stored one if they may see it
        (lists): never an id of a referral the user may not open."""
        check = self._repeats(obj)
        if check is not None:
            return check.best.pk if check.best else None
        if obj.repeat_of_id is None:
            return None
        visible = self.context.get("_visible_repeats")
        if visible is None:
            rows = self.parent.instance if self.parent is not None else [obj]
            visible = self.context["_visible_repeats"] = repeats.shown_repeats(rows, self._user())
        return obj.repeat_of_id if obj.repeat_of_id in visible else None

    @extend_schema_field(RepeatOut(many=True, allow_null=True))
    def get_possible_repeats(self, obj: Referral):
        """Every earlier referral about the same people that this user may see; null in lists."""
        check = self._repeats(obj)
        if check is None:
            return None
        return [
            {
                "id": m.referral.pk,
                "number": m.referral.number,
                "state": m.referral.state,
                "kind": m.kind,
                "concluded_on": m.concluded_on.isoformat() if m.concluded_on else None,
            }
            for m in check.matches
        ]

    def _section(self, name: str, obj: Referral):
        section = registry.sections.get(name)
        return section.serialize(obj, self._user(), self._full(obj)) if section else None

    @extend_schema_field({**{"type": "object", "additionalProperties": True}, "nullable": True})
    def get_agreement(self, obj: Referral):
        return self._section("agreement", obj)

    @extend_schema_field({**{"type": "object", "additionalProperties": True}, "nullable": True})
    def get_outcome(self, obj: Referral):
        return self._section("outcome", obj)

    @extend_schema_field({**{"type": "object", "additionalProperties": True}, "nullable": True})
    def get_correction(self, obj: Referral):
        """Added by mediation (退回补正); a referral's detail only: a list would pay a query for it."""
        return self._section("correction", obj) if self.context.get("detail") else None

    @extend_schema_field(LeaderOut(allow_null=True))
    def get_leader(self, obj: Referral):
        """领导包案: the active entry; a referral's detail only (null in lists: a query per row)."""
        return leader_json(obj) if self.context.get("detail") else None

    @extend_schema_field(LinkOut(many=True, allow_null=True))
    def get_links(self, obj: Referral):
        """Linked referrals the user may see; a referral's detail only (null in lists)."""
        return self._section("links", obj) if self.context.get("detail") else None

    @extend_schema_field({**{"type": "object", "additionalProperties": True}, "nullable": True})
    def get_appeals(self, obj: Referral):
        """复查复核: the reply's delivery and each request (``AppealsOut`` of ``POST …/appeals/``); a
        referral's detail only (null in lists)."""
        return self._section("appeals", obj) if self.context.get("detail") else None

    @extend_schema_field(AssignmentOut(allow_null=True))
    def get_assigned_by(self, obj: Referral):
        """交办件: who handed the referral down and its report back (prefetched: lists too)."""
        return self._section("assigned_by", obj)


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
        return registry.event_label(obj.action)


STATE_LABELS = dict(State.choices)
CATEGORY_LABELS = dict(Category.choices)
