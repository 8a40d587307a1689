"""Page forms for referrals: validation only; the workflow functions do the work."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from referrals import ethnic_groups, permissions
from referrals.errors import InvalidInput
from referrals.intake import (
    PartyInput,
    ReferralInput,
    clean_party,
    petition_acceptance_errors,
)
from referrals.lawyers import check_consultation, check_lawyer
from referrals.models import (
    Assignment,
    DeclineReason,
    Exclusion,
    Lawyer,
    LeaderCase,
    Party,
    Referral,
    ReferralLink,
    ScopeGround,
)
from referrals.workflow import EXTENSION_DAYS, PETITION_EXTENSION_DAYS, ExtensionCap, PartyConsent
from townships.categories import Category
from townships.models import Mediator, Organisation
from townships.validators import validate_name, validate_plausible_date


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TelInput(forms.TextInput):
    """A phone number: the phone's numeric keypad."""

    input_type = "tel"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "tel", "autocomplete": "off", **(attrs or {})})


class TargetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        county = obj.region.parent.name if obj.region.level == "township" and obj.region.parent else ""
        return f"{obj.name}（{county}）" if county else obj.name


def _choices(targets):
    return targets.select_related("region__parent").order_by("region__code", "kind", "name")


class ReferralForm(forms.Form):
    origin = forms.ModelChoiceField(
        label=_("移交单位"), queryset=Organisation.objects.none(), required=True, empty_label=None
    )
    received_on = forms.DateField(label=_("信访登记日期"), widget=DateInput(), validators=[validate_plausible_date])
    petition_accepted_on = forms.DateField(
        label=_("信访受理日期"),
        required=False,
        widget=DateInput(),
        validators=[validate_plausible_date],
        help_text=_("信访部门决定受理之日，信访办理期限自此起算60日；不填即为信访登记日期（收到信访之日）。"),
    )
    petition_no = forms.CharField(
        label=_("信访件编号"), max_length=64, required=False, help_text=_("信访信息系统中的编号(如有)。")
    )
    category = forms.ChoiceField(label=_("纠纷类别"), choices=[("", "—")] + list(Category.choices))
    summary = forms.CharField(
        label=_("事实摘要"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    claims = forms.CharField(
        label=_("当事人诉求"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    target = TargetChoiceField(
        label=_("接收单位"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("— 请选择调委会或司法局 —"),
    )
    scope_ground = forms.ChoiceField(
        label=_("调解范围依据"), choices=ScopeGround.choices, required=False, widget=forms.RadioSelect
    )
    exclusions_absent = forms.MultipleChoiceField(
        label=_("确认不存在以下不宜调解情形"),
        choices=Exclusion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["origin"].queryset = offices
        first = offices.first()
        if offices.count() == 1:
            self.fields["origin"].initial = first
            self.fields["origin"].widget = forms.HiddenInput()
        # The offices of one user are of one city; its receivers are the choices (the workflow checks
        # the chosen one against the office actually picked).
        self.fields["target"].queryset = (
            _choices(permissions.referral_targets(first)) if first else Organisation.objects.none()
        )

    def clean(self):
        data = super().clean()
        errors = petition_acceptance_errors(data.get("received_on"), data.get("petition_accepted_on"))
        if errors:
            self.add_error("petition_accepted_on", errors)
        return data


class PartyForm(forms.Form):
    role = forms.ChoiceField(label=_("当事人地位"), choices=Party.Role.choices)
    kind = forms.ChoiceField(label=_("主体类型"), choices=Party.Kind.choices, initial=Party.Kind.PERSON)
    name = forms.CharField(label=_("姓名或名称"), max_length=100)
    id_number = forms.CharField(label=_("身份证号/统一社会信用代码"), max_length=30, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False, widget=TelInput())
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    ethnicity = forms.ChoiceField(label=_("民族"), choices=[("", "—"), *ethnic_groups.CHOICES], required=False)
    consent_given_on = forms.DateField(
        label=_("同意调解日期"), required=False, widget=DateInput(), validators=[validate_plausible_date]
    )
    consent_method = forms.ChoiceField(
        label=_("同意方式"), choices=[("", "—")] + list(Party.STAFF_CONSENT_CHOICES), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A consent the party gave online stays selectable for that party only (intake checks it).
        if self.initial.get("consent_method") == Party.ConsentMethod.ONLINE:
            self.fields["consent_method"].choices = [("", "—"), *Party.ConsentMethod.choices]

    def clean_name(self) -> str:
        return validate_name(self.cleaned_data["name"])

    def clean(self):
        data = super().clean()
        id_number, phone, errors = clean_party(
            data.get("kind", ""), data.get("id_number", ""), data.get("phone", ""), data.get("ethnicity", "")
        )
        data["id_number"], data["phone"] = id_number, phone
        for field, messages in errors.items():
            self.add_error(field, messages)
        if bool(data.get("consent_given_on")) != bool(data.get("consent_method")):
            self.add_error("consent_method", _("同意日期和同意方式须同时填写。"))
        return data

    def to_input(self) -> PartyInput:
        d = self.cleaned_data
        return PartyInput.from_values(
            d, consent_given_on=d.get("consent_given_on"), consent_method=d.get("consent_method", "")
        )


MAX_PARTIES = settings.FANGDIAO["MAX_PARTIES"]


class BasePartyFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        live = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        if len(live) > MAX_PARTIES:
            raise ValidationError(_("当事人最多%d名。") % MAX_PARTIES)


PartyFormSet = forms.formset_factory(
    PartyForm,
    formset=BasePartyFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_PARTIES,
    absolute_max=MAX_PARTIES,
    validate_max=True,
)


def referral_input(form: ReferralForm, parties: forms.BaseFormSet) -> ReferralInput:
    d = form.cleaned_data
    return ReferralInput.from_values(
        d,
        scope_ground=d.get("scope_ground") or "",
        exclusions_absent=list(d.get("exclusions_absent") or []),
        parties=[f.to_input() for f in parties.forms if f.cleaned_data and not parties._should_delete_form(f)],
    )


def initial_from(referral: Referral) -> tuple[dict, list[dict]]:
    initial = {
        "origin": referral.origin_id,
        "received_on": referral.received_on,
        # Shown only when it differs from the receipt: left empty, it follows the receipt date.
        "petition_accepted_on": referral.petition_accepted_on
        if referral.petition_accepted_on != referral.received_on
        else None,
        "petition_no": referral.petition_no,
        "category": referral.category,
        "summary": referral.summary,
        "claims": referral.claims,
        "target": referral.target_id,
        "scope_ground": referral.scope_ground,
        "exclusions_absent": referral.exclusions_absent,
    }
    parties = [
        {
            "role": p.role,
            "kind": p.kind,
            "name": p.name,
            "id_number": p.id_number,
            "phone": p.phone,
            "address": p.address,
            "ethnicity": p.ethnicity,
            "consent_given_on": p.consent_given_on,
            "consent_method": p.consent_method,
        }
        for p in referral.parties.all()
    ]
    return initial, parties


# --- Action forms ----------------------------------------------------------------------------


class ActionForm(forms.Form):
    """Base of the short forms behind each action button; ``payload`` feeds the workflow function.

    The workflow, not the form, refuses a step that lacks a required element, naming every one at
    once (``MissingElements``). ``missing_at`` says at which field of the form each element's code
    is shown; ``step_required``, which of the form's fields the step always requires: the page stars
    them like the fields that are required by their own rule (``config/forms.py``)."""

    missing_at: dict[str, str] = {}
    step_required: tuple[str, ...] = ()

    def __init__(self, *args, referral: Referral, user, **kwargs):
        self.referral = referral
        self.user = user
        super().__init__(*args, **kwargs)

    def field_of(self, code: str) -> str | None:
        """The field where the missing element ``code`` is said, or None (said above the fields)."""
        name = self.missing_at.get(code)
        return name if name in self.fields else None

    def payload(self) -> dict:
        return dict(self.cleaned_data)


def roster_entry_of(user, committee_id: int | None) -> Mediator | None:
    """The user's own entry in the committee's active roster, if they are one of its mediators."""
    if committee_id is None or not getattr(user, "is_authenticated", False):
        return None
    return Mediator.objects.filter(committee_id=committee_id, user=user, active=True).first()


class SubmitForm(ActionForm):
    pass


class NoteMixin(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(NoteMixin, ActionForm):
    target = TargetChoiceField(label=_("分派至"), queryset=Organisation.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _choices(permissions.dispatch_targets(self.referral))


class RedirectForm(NoteMixin, ActionForm):
    target = TargetChoiceField(label=_("重新移交至"), queryset=Organisation.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _choices(permissions.redirect_targets(self.user, self.referral))


class EscalateForm(ActionForm):
    target = TargetChoiceField(label=_("升级至"), queryset=Organisation.objects.none())
    reason = forms.CharField(label=_("升级原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = _choices(permissions.escalation_targets(self.user, self.referral))


class MergeForm(ActionForm):
    into = forms.CharField(
        label=_("并入案件编号"), max_length=32, help_text=_("本部门登记的、保留的那件案件，如：JM-2026-000123")
    )
    reason = forms.CharField(label=_("合并原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_into(self) -> Referral:
        found = permissions.visible_by_number(self.user, self.cleaned_data["into"])
        if found is None:
            raise forms.ValidationError(_("未找到可并入的本部门案件。"))
        return found


class AcceptForm(NoteMixin, ActionForm):
    missing_at = {"lead_mediator": "lead", "rights_explained": "rights_explained"}
    step_required = ("lead", "rights_explained")

    lead = forms.ModelChoiceField(
        label=_("主调解员"), queryset=Mediator.objects.none(), required=False, empty_label=_("— 请选择 —")
    )
    others = forms.ModelMultipleChoiceField(
        label=_("其他调解员"), queryset=Mediator.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    rights_explained = forms.BooleanField(label=_("已向双方当事人送达《人民调解当事人权利义务告知书》"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roster = Mediator.objects.filter(committee_id=self.referral.target_id, active=True).order_by("position", "name")
        self.fields["lead"].queryset = roster
        self.fields["others"].queryset = roster
        if not self.is_bound:  # the mediator who accepts usually leads: chosen already, changeable
            self.fields["lead"].initial = roster_entry_of(self.user, self.referral.target_id)

    def payload(self) -> dict:
        lead = self.cleaned_data.get("lead")
        others = [m for m in self.cleaned_data.get("others") or [] if m != lead]
        return {
            "mediators": ([lead] if lead else []) + others,
            "rights_explained": self.cleaned_data.get("rights_explained", False),
            "note": self.cleaned_data.get("note", ""),
        }


class DeclineForm(NoteMixin, ActionForm):
    reason = forms.ChoiceField(label=_("退回原因"), choices=DeclineReason.choices)


def _days_field(cap: ExtensionCap) -> forms.IntegerField:
    # The workflow's cap (a setting), with its words: the page says at once what the step would refuse.
    message = cap.message()
    return forms.IntegerField(
        label=_("延长天数"),
        min_value=1,
        max_value=cap.limit,
        error_messages={"min_value": message, "max_value": message},
    )


class ConsentWidget(forms.MultiWidget):
    """One party's consent on one row: the day and the method."""

    def __init__(self, attrs=None):
        method = forms.Select(
            choices=[("", _("— 同意方式 —")), *Party.STAFF_CONSENT_CHOICES], attrs={"aria-label": _("同意方式")}
        )
        super().__init__([DateInput(attrs={"aria-label": _("同意延期日期")}), method], attrs)

    def decompress(self, value):
        return list(value) if value else [None, ""]


class ConsentField(forms.MultiValueField):
    """(day, method) of one party's consent, or None when left empty (the workflow then names the party)."""

    widget = ConsentWidget

    def __init__(self, **kwargs):
        fields = (
            forms.DateField(required=False, validators=[validate_plausible_date]),
            forms.ChoiceField(required=False, choices=Party.STAFF_CONSENT_CHOICES),
        )
        super().__init__(fields=fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list):
        day, method = (list(data_list) + [None, ""])[:2] if data_list else (None, "")
        if bool(day) != bool(method):
            raise ValidationError(_("同意日期和同意方式须同时填写。"))
        return (day, method) if day else None


class ExtendForm(ActionForm):
    """延期: the days, the reason, and one row per party for its consent (every party must consent)."""

    days = _days_field(EXTENSION_DAYS)
    reason = forms.CharField(label=_("延期原因"), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parties = list(self.referral.parties.all())
        for party in self.parties:
            self.fields[f"consent_{party.pk}"] = ConsentField(
                label=_("%(name)s（%(role)s）同意延期") % {"name": party.name, "role": party.get_role_display()},
                help_text=_("同意延长调解期限的日期和方式"),
            )
        self.step_required = tuple(f"consent_{party.pk}" for party in self.parties)

    def field_of(self, code: str) -> str | None:
        kind, _sep, party = code.partition(":")  # extension_consent:<party id>
        name = f"consent_{party}"
        return name if kind == "extension_consent" and name in self.fields else None

    def payload(self) -> dict:
        return {
            "days": self.cleaned_data["days"],
            "reason": self.cleaned_data["reason"],
            "consents": [
                PartyConsent(party=party.pk, consented_on=value[0], method=value[1])
                for party in self.parties
                if (value := self.cleaned_data.get(f"consent_{party.pk}"))
            ],
        }


class ExtendPetitionForm(ActionForm):
    """延长信访办理期限: once, by at most ``CLOCK_PETITION_EXTENSION_MAX_DAYS`` (30) days."""

    days = _days_field(PETITION_EXTENSION_DAYS)
    reason = forms.CharField(label=_("延期理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    approved_by_name = forms.CharField(
        label=_("批准人"), max_length=100, help_text=_("批准延期的本机关负责人姓名(信访工作条例第三十四条)。")
    )


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ResumeForm(NoteMixin, ActionForm):
    pass


class NoteForm(NoteMixin, ActionForm):
    """A note and nothing else (催办)."""


class CloseForm(ActionForm):
    missing_at = {"review_note": "note"}
    step_required = ("note",)

    note = forms.CharField(
        label=_("审核意见"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class LeaderForm(ActionForm):
    """列入领导包案: the leader, the post, the level and the day (``referrals/leader_cases.py``)."""

    name = forms.CharField(label=_("包案领导"), max_length=50)
    post = forms.CharField(label=_("职务"), max_length=100, help_text=_("如：区委副书记、副区长"))
    level = forms.ChoiceField(label=_("包案层级"), choices=LeaderCase.Level.choices)
    assigned_on = forms.DateField(label=_("包案日期"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_on"].initial = timezone.localdate()


class RemoveLeaderForm(ActionForm):
    """撤出领导包案: the reason is required; the entry is kept."""

    reason = forms.CharField(
        label=_("撤出原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写撤出包案的原因。")},
    )


class AssignmentForm(ActionForm):
    """登记交办件: who handed the case down, the batch, the day, and the day to report back by
    (``referrals/assignments.py`` checks them and names every mistake)."""

    level = forms.ChoiceField(label=_("交办单位"), choices=Assignment.Level.choices)
    batch = forms.CharField(label=_("交办批次"), max_length=50, help_text=_("如：2026年第3批"))
    assigned_on = forms.DateField(label=_("交办日期"), widget=DateInput())
    report_due_on = forms.DateField(
        label=_("上报期限"), widget=DateInput(), help_text=_("交办单位要求上报办结情况的日期。")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = getattr(self.referral, "assignment", None) if self.referral.pk else None
        if current is not None:
            for name in ("level", "batch", "assigned_on", "report_due_on"):
                self.fields[name].initial = getattr(current, name)


class ReportBackForm(ActionForm):
    """上报办结: the day, what was reported, and the report as sent (optional)."""

    reported_on = forms.DateField(label=_("上报日期"), widget=DateInput())
    report = forms.CharField(
        label=_("上报内容"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("办理结果摘要，如：经镇人民调解委员会调解达成协议，已履行完毕。"),
    )
    file = forms.FileField(
        label=_("上报材料（可选）"), required=False, help_text=_("PDF、图片或 Word 文件，不超过 20 MB。")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_on"].initial = timezone.localdate()


def add_rule_errors(form: forms.Form, check, **values) -> None:
    """Say the rule's own mistakes (a formula prefix, a date in the future...) together with the form's,
    on the first send: each at its field, unless the form has already said something there."""
    try:
        check(**values)
    except InvalidInput as exc:
        for field, found in exc.errors.items():
            if field in form.fields and field not in form.errors:
                form.add_error(field, found)


class OfficeChoiceForm(forms.Form):
    """A form for one office's roster: someone who keeps several offices' rosters chooses the office;
    for everyone else it is their own (the field is left out)."""

    office = forms.TypedChoiceField(label=_("信访部门"), coerce=int, required=False)

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        offices = list(offices)
        if len(offices) > 1:
            self.fields["office"].choices = [("", "—")] + [(o.pk, o.name) for o in offices]
            self.fields["office"].required = True
        else:
            del self.fields["office"]


class LawyerForm(OfficeChoiceForm):
    """A lawyer for the office's roster (``referrals/lawyers.py`` checks the values)."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    kind = forms.ChoiceField(label=_("类别"), choices=Lawyer.Kind.choices, initial=Lawyer.Kind.LAWYER)
    firm = forms.CharField(label=_("执业机构"), max_length=100, help_text=_("如：广东某某律师事务所"))
    licence_no = forms.CharField(label=_("执业证号"), max_length=40, required=False, help_text=_("17位数字，可不填。"))
    mobile = forms.CharField(label=_("手机号码"), max_length=20, required=False)

    def clean(self):
        data = super().clean()
        raw = {k: data.get(k, self.data.get(k, "")) or "" for k in ("name", "kind", "firm", "licence_no", "mobile")}
        add_rule_errors(self, check_lawyer, **raw)
        return data


class LawyerImportForm(OfficeChoiceForm):
    """A spreadsheet of lawyers for the office's roster (``referrals/lawyer_import.py`` reads it)."""

    file = forms.FileField(
        label=_("名册文件"),
        help_text=_("xlsx、xls、ods 或 csv 文件；表头须有“姓名”“执业机构”，可另有“类别”“执业证号”“手机号码”。"),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_import_%s")
        super().__init__(*args, **kwargs)


class ConsultationForm(forms.Form):
    """One consultation (一批): the lawyer, the day, the persons, the topic, optionally a referral."""

    lawyer = forms.ModelChoiceField(label=_("律师"), queryset=Lawyer.objects.none())
    held_on = forms.DateField(label=_("咨询日期"), widget=DateInput())
    persons = forms.IntegerField(label=_("人数（人次）"), min_value=1, max_value=99, initial=1)
    topic = forms.CharField(label=_("咨询事项"), max_length=200, help_text=_("如：土地承包经营权纠纷的法律途径"))
    referral = forms.CharField(
        label=_("关联案件编号（可选）"), max_length=32, required=False, help_text=_("如：JM-2026-000123")
    )

    def __init__(self, *args, lawyers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lawyer"].queryset = lawyers
        self.fields["held_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        values = {k: data.get(k) for k in ("held_on", "persons")}
        add_rule_errors(self, check_consultation, **values, topic=data.get("topic", ""))
        return data


def visible_referral(user, number: str) -> Referral:
    """A referral the user may see, by its number; a form error otherwise (never saying whether it exists)."""
    found = permissions.visible_by_number(user, number)
    if found is None:
        raise ValidationError(_("未找到您有权查看的案件：%s") % permissions.typed_number(number))
    return found


class LinkForm(ActionForm):
    """关联案件: the other referral by its number, and how the two are related."""

    other = forms.CharField(label=_("关联案件编号"), max_length=32, help_text=_("如：JM-2026-000123"))
    kind = forms.ChoiceField(label=_("关联类型"), choices=ReferralLink.Kind.choices)

    def clean_other(self) -> Referral:
        return visible_referral(self.user, self.cleaned_data["other"])


class UnlinkForm(ActionForm):
    other = forms.IntegerField(widget=forms.HiddenInput)

    def clean_other(self) -> Referral:
        found = permissions.referrals_visible_to(self.user).filter(pk=self.cleaned_data["other"]).first()
        if found is None:
            raise ValidationError(_("未找到您有权查看的案件。"))
        return found


class CaseGroupForm(forms.Form):
    """A new 类案 group (``referrals/case_groups.py`` checks the values). The lead is one of the user's
    petition offices or justice bureaus; chosen only by someone with several."""

    name = forms.CharField(
        label=_("类案名称"),
        max_length=100,
        help_text=_("如：某小区业主物业纠纷"),
        error_messages={"required": _("请填写类案名称。")},
    )
    lead_organisation = forms.ModelChoiceField(label=_("牵头单位"), queryset=Organisation.objects.none())
    description = forms.CharField(
        label=_("基本情况"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    working_group = forms.CharField(
        label=_("工作小组成员"), max_length=500, required=False, help_text=_("专项工作小组的牵头领导和成员，可不填。")
    )

    def __init__(self, *args, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_organisation"].queryset = leads
        if leads.count() == 1:
            self.fields["lead_organisation"].initial = leads.first()
            self.fields["lead_organisation"].widget = forms.HiddenInput()


class CaseGroupMemberForm(forms.Form):
    referral = forms.CharField(
        label=_("案件编号"),
        max_length=32,
        help_text=_("如：JM-2026-000123"),
        error_messages={"required": _("请填写要列入的案件编号。")},
    )


class CaseGroupNoteForm(forms.Form):
    text = forms.CharField(
        label=_("工作记录"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写工作记录。")},
    )
