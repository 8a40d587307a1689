"""Page forms for referrals: validation only; the workflow functions do the work."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from referrals.models import DeclineReason, Exclusion, Party, Referral, ScopeGround
from referrals.workflow import PartyInput, ReferralInput
from townships.categories import Category
from townships.models import Mediator, Organisation
from townships.validators import validate_id_number, validate_phone, validate_plausible_date


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TargetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        county = obj.region.parent.name if obj.region.level == "township" and obj.region.parent else ""
        return f"{obj.name}（{county}）" if county else obj.name


def receiving_organisations(city_code: str, *, within: str | None = None):
    qs = Organisation.objects.accepting_referrals().filter(region__code__startswith=within or city_code)
    return qs.select_related("region__parent").order_by("region__code", "kind", "name")


class ReferralForm(forms.Form):
    origin = forms.ModelChoiceField(
        label=_("移交单位"), queryset=Organisation.objects.none(), required=True, empty_label=None
    )
    received_on = forms.DateField(label=_("信访受理日期"), widget=DateInput(), validators=[validate_plausible_date])
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
        label=_("受理依据"), choices=ScopeGround.choices, required=False, widget=forms.RadioSelect
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
        city = first.region.code[:4] if first else ""
        self.fields["target"].queryset = receiving_organisations(city)

    def clean(self):
        data = super().clean()
        target, origin = data.get("target"), data.get("origin")
        if target and origin and target.region.code[:4] != origin.region.code[:4]:
            self.add_error("target", _("只能移交给本市的调解组织或司法行政机关。"))
        return data


class PartyForm(forms.Form):
    role = forms.ChoiceField(label=_("当事人地位"), choices=Party.Role.choices)
    kind = forms.ChoiceField(label=_("主体类型"), choices=Party.Kind.choices, initial=Party.Kind.PERSON)
    name = forms.CharField(label=_("姓名或名称"), max_length=100)
    id_number = forms.CharField(label=_("身份证号/统一社会信用代码"), max_length=30, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    consent_given_on = forms.DateField(
        label=_("同意调解日期"), required=False, widget=DateInput(), validators=[validate_plausible_date]
    )
    consent_method = forms.ChoiceField(
        label=_("同意方式"), choices=[("", "—")] + list(Party.ConsentMethod.choices), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("id_number"):
            if data.get("kind") == Party.Kind.PERSON:
                try:
                    data["id_number"] = validate_id_number(data["id_number"])
                except ValidationError as exc:
                    self.add_error("id_number", exc)
            elif len(data["id_number"].strip()) != 18:
                self.add_error("id_number", _("统一社会信用代码应为18位。"))
        if data.get("phone"):
            try:
                data["phone"] = validate_phone(data["phone"])
            except ValidationError as exc:
                self.add_error("phone", exc)
        if bool(data.get("consent_given_on")) != bool(data.get("consent_method")):
            self.add_error("consent_method", _("同意日期和同意方式须同时填写。"))
        return data

    def to_input(self) -> PartyInput:
        d = self.cleaned_data
        return PartyInput(
            role=d["role"],
            kind=d["kind"],
            name=d["name"].strip(),
            id_number=d.get("id_number", ""),
            phone=d.get("phone", ""),
            address=d.get("address", "").strip(),
            consent_given_on=d.get("consent_given_on"),
            consent_method=d.get("consent_method", ""),
        )


class BasePartyFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        live = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        if len(live) > 20:
            raise ValidationError(_("当事人最多20名。"))


PartyFormSet = forms.formset_factory(
    PartyForm, formset=BasePartyFormSet, extra=0, can_delete=True, max_num=20, absolute_max=20, validate_max=True
)


def referral_input(form: ReferralForm, parties: forms.BaseFormSet) -> ReferralInput:
    d = form.cleaned_data
    return ReferralInput(
        received_on=d["received_on"],
        category=d["category"],
        summary=d.get("summary", "").strip(),
        claims=d.get("claims", "").strip(),
        petition_no=d.get("petition_no", "").strip(),
        target=d.get("target"),
        scope_ground=d.get("scope_ground") or "",
        exclusions_absent=list(d.get("exclusions_absent") or []),
        parties=[f.to_input() for f in parties.forms if f.cleaned_data and not parties._should_delete_form(f)],
    )


def initial_from(referral: Referral) -> tuple[dict, list[dict]]:
    initial = {
        "origin": referral.origin_id,
        "received_on": referral.received_on,
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
            "consent_given_on": p.consent_given_on,
            "consent_method": p.consent_method,
        }
        for p in referral.parties.all()
    ]
    return initial, parties


# --- Action forms ----------------------------------------------------------------------------


class ActionForm(forms.Form):
    """Base of the short forms behind each action button; ``payload`` feeds the workflow function."""

    def __init__(self, *args, referral: Referral, user, **kwargs):
        self.referral = referral
        self.user = user
        super().__init__(*args, **kwargs)

    def payload(self) -> dict:
        return dict(self.cleaned_data)


class SubmitForm(ActionForm):
    pass


class NoteMixin(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(NoteMixin, ActionForm):
    target = TargetChoiceField(label=_("分派至"), queryset=Organisation.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.referral.target
        self.fields["target"].queryset = receiving_organisations(
            current.region.code[:4], within=current.region.code
        ).filter(kind=Organisation.Kind.MEDIATION_COMMITTEE)


class RedirectForm(NoteMixin, ActionForm):
    target = TargetChoiceField(label=_("重新移交至"), queryset=Organisation.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = receiving_organisations(self.referral.origin.region.code[:4]).exclude(
            pk=self.referral.target_id
        )


class AcceptForm(NoteMixin, ActionForm):
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


class ExtendForm(ActionForm):
    days = forms.IntegerField(label=_("延长天数"), min_value=1)
    reason = forms.CharField(label=_("延期原因"), max_length=500)
    parties_consented = forms.BooleanField(label=_("双方当事人均同意延长调解期限"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = settings.FANGDIAO["EXTENSION_MAX_DAYS"]
        self.fields["days"].widget.attrs["max"] = settings.FANGDIAO["EXTENSION_MAX_DAYS"]


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ResumeForm(NoteMixin, ActionForm):
    pass


class CloseForm(ActionForm):
    note = forms.CharField(
        label=_("审核意见"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "submit": SubmitForm,
    "dispatch": DispatchForm,
    "accept": AcceptForm,
    "decline": DeclineForm,
    "redirect": RedirectForm,
    "extend": ExtendForm,
    "suspend": ReasonForm,
    "resume": ResumeForm,
    "close": CloseForm,
    "reopen": ReasonForm,
}
