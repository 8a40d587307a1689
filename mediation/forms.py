"""Page forms of the mediation records: validation only; mediation/workflow.py does the work."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation.dossier import REQUESTABLE, missing_entries
from mediation.models import Agreement, DossierItem, FollowUp, MediationSession, SupervisionOrder
from mediation.routes import choices_for
from mediation.workflow import AgreementInput
from referrals.forms import ActionForm, DateInput, roster_entry_of
from referrals.models import Lawyer, LegalRoute, TerminationReason
from townships.models import Mediator
from townships.validators import validate_plausible_date

# What the dossier takes (``lib/uploads.py`` judges each file by its bytes): offered by the phone's
# file chooser together with its camera.
ACCEPT = "application/pdf,image/*,.pdf,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx,.ppt,.pptx"
MAX_FILES = 10


class DocumentsInput(forms.FileInput):
    """Several files at once, or photos: on a phone, a 拍照 button opens the camera
    (``static/js/app.js`` asks for it with ``capture``; the chooser offers files and photos)."""

    allow_multiple_selected = True
    template_name = "forms/widgets/documents.html"

    def __init__(self, attrs=None):
        super().__init__({"multiple": True, "accept": ACCEPT, **(attrs or {})})


class DocumentsField(forms.FileField):
    """One or several uploads, each checked alike (the workflow judges each by its content); a list."""

    widget = DocumentsInput

    def __init__(self, *, max_files: int = MAX_FILES, **kwargs):
        self.max_files = max_files
        help_text = _("PDF、JPEG、PNG 或 Office 文档，可一次选择多个文件或拍照；每个文件不超过20MB，一次最多10个。")
        kwargs.setdefault("help_text", help_text)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > self.max_files:
            raise forms.ValidationError(_("一次最多上传%d个文件。") % self.max_files, code="max_files")
        one = super().clean
        return [one(f, initial) for f in files]


class RecordForm(ActionForm):
    """A form of the referral page, whose field ids carry its action's name (as ``referral_action``
    gives them): the page holds several forms with fields of the same name (note, reason), and a
    label must point at its own form's field."""

    record_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.record_name}_%s")
        super().__init__(*args, **kwargs)


class SucceedForm(RecordForm):
    record_name = "succeed"
    # The agreement's elements (``workflow.missing_for_agreement``), each said at its field; the
    # signing date is required of a written agreement only (its label says so).
    missing_at = {
        "agreement_form": "form",
        "agreement_terms": "terms",
        "performance_method": "performance_method",
        "performance_due": "performance_due",
        "signed_on": "signed_on",
    }
    step_required = ("terms", "performance_method", "performance_due")

    form = forms.ChoiceField(
        label=_("协议形式"), choices=Agreement.Form.choices, widget=forms.RadioSelect, initial=Agreement.Form.WRITTEN
    )
    terms = forms.CharField(
        label=_("协议内容"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("写明各方的权利义务。"),
    )
    amount = forms.DecimalField(label=_("涉及金额(元)"), max_digits=14, decimal_places=2, min_value=0, required=False)
    performance_method = forms.CharField(label=_("履行方式"), max_length=500, required=False)
    performance_place = forms.CharField(label=_("履行地点"), max_length=200, required=False)
    performance_due = forms.DateField(label=_("履行期限"), required=False, widget=DateInput())
    signed_on = forms.DateField(
        label=_("签订日期(书面协议)"), required=False, widget=DateInput(), validators=[validate_plausible_date]
    )
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # The dossier's must-item for a written agreement, invited here so that it is not forgotten.
    scan = DocumentsField(
        label=_("签字盖章的调解协议书(扫描件)"),
        required=False,
        help_text=_(
            "书面协议须有各方当事人、调解员签名并加盖调委会印章的扫描件，卷宗必备；可拍照或选择多页，也可稍后在卷宗中上传。"
        ),
    )

    def payload(self) -> dict:
        d = self.cleaned_data
        scan = {"scan": d["scan"]} if d.get("scan") else {}
        return {
            **scan,
            "agreement": AgreementInput(
                form=d["form"],
                terms=d.get("terms") or "",
                amount=d.get("amount"),
                performance_method=d.get("performance_method") or "",
                performance_place=d.get("performance_place") or "",
                performance_due=d.get("performance_due"),
                signed_on=d.get("signed_on"),
            ),
            "note": d.get("note") or "",
        }


class FailForm(RecordForm):
    record_name = "fail"
    missing_at = {
        "termination_reason": "reason",
        "routes_explained": "routes_explained",
        "session_or_note": "no_session_note",
    }

    reason = forms.ChoiceField(
        label=_("终止原因"), choices=[("", "—")] + list(TerminationReason.choices), required=False
    )
    note = forms.CharField(label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    routes_explained = forms.MultipleChoiceField(
        label=_("已告知当事人的其他救济途径"),
        choices=LegalRoute.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    no_session_note = forms.CharField(label=_("未开展调解的原因(没有调解记录时填写)"), max_length=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["routes_explained"].choices = choices_for(self.referral.category)
        required = ["reason", "routes_explained"]
        if not MediationSession.objects.filter(referral=self.referral, round=self.referral.round).exists():
            required.append("no_session_note")  # no record of this round: say why none was held
        self.step_required = tuple(required)


class SessionFields(forms.Form):
    """A mediation record's own fields, on the referral page (``SessionForm``) and on a 类案 group's
    (``group_sessions.GroupSessionForm``); each form sets the mediators it offers."""

    held_on = forms.DateField(label=_("调解日期"), widget=DateInput(), validators=[validate_plausible_date])
    location = forms.CharField(label=_("地点"), max_length=200)
    mediators = forms.ModelMultipleChoiceField(
        label=_("参加调解员"), queryset=Mediator.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    participants = forms.CharField(
        label=_("当事人及其他参加人员"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    record = forms.CharField(
        label=_("调解情况记录"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("记录各方陈述、调查核实的情况和调解经过。"),
    )


class SessionForm(SessionFields, RecordForm):
    record_name = "record_session"
    field_order = ["held_on", "location", "mediators", "lawyers", "participants", "record"]

    lawyers = forms.ModelMultipleChoiceField(
        label=_("参加律师"),
        queryset=Lawyer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("移交信访部门律师名册中参加本次调解的律师。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediators"].queryset = Mediator.objects.filter(committee_id=self.referral.target_id, active=True)
        counsel = Lawyer.objects.filter(office_id=self.referral.origin_id, active=True).order_by("name")
        if counsel.exists():
            self.fields["lawyers"].queryset = counsel
        else:  # an office without a roster: no empty field to puzzle over
            del self.fields["lawyers"]
        self.fields["held_on"].initial = timezone.localdate()
        if self.referral.pk and not self.is_bound:
            chosen = list(self.referral.mediators.values_list("pk", flat=True))
            me = roster_entry_of(self.user, self.referral.target_id)
            if me is not None and me.pk not in chosen:
                chosen.append(me.pk)  # who records the session usually took part in it
            self.fields["mediators"].initial = chosen

    def payload(self) -> dict:
        d = dict(self.cleaned_data)
        d["mediators"] = list(d.get("mediators") or []) or None
        if "lawyers" in d:
            d["lawyers"] = list(d["lawyers"] or [])
        return d


class AgreementProgressForm(RecordForm):
    record_name = "record_agreement_progress"

    performance = forms.ChoiceField(
        label=_("履行情况"), choices=[("", "—")] + list(Agreement.Performance.choices), required=False
    )
    performance_recorded_on = forms.DateField(
        label=_("履行情况日期"), required=False, widget=DateInput(), validators=[validate_plausible_date]
    )
    confirmation_applied_on = forms.DateField(
        label=_("申请司法确认日期"), required=False, widget=DateInput(), validators=[validate_plausible_date]
    )
    confirmation_court = forms.CharField(label=_("受理法院"), max_length=100, required=False)
    confirmation_result = forms.ChoiceField(
        label=_("司法确认结果"), required=False, choices=[("", "—")] + list(Agreement.ConfirmationResult.choices)
    )
    confirmation_ruling_on = forms.DateField(
        label=_("裁定日期"), required=False, widget=DateInput(), validators=[validate_plausible_date]
    )

    def payload(self) -> dict:
        d = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        return d


class FollowUpForm(RecordForm):
    record_name = "add_followup"

    visited_on = forms.DateField(label=_("回访日期"), widget=DateInput(), validators=[validate_plausible_date])
    method = forms.ChoiceField(label=_("回访方式"), choices=FollowUp.Method.choices)
    satisfaction = forms.ChoiceField(
        label=_("当事人满意度"), choices=FollowUp.Satisfaction.choices, widget=forms.RadioSelect
    )
    performance = forms.ChoiceField(
        label=_("协议履行情况"), required=False, choices=[("", "—")] + list(Agreement.Performance.choices)
    )
    note = forms.CharField(
        label=_("回访情况"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()


class SupervisionForm(RecordForm):
    record_name = "issue_supervision"

    kind = forms.ChoiceField(label=_("督办方式"), choices=SupervisionOrder.Kind.choices)
    note = forms.CharField(label=_("督办事项"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    respond_by = forms.DateField(label=_("回复期限"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["respond_by"].initial = timezone.localdate() + datetime.timedelta(days=5)


class ResponseForm(RecordForm):
    record_name = "respond_supervision"

    response = forms.CharField(label=_("办理情况回复"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class AttachmentForm(RecordForm):
    record_name = "add_attachment"

    kind = forms.ChoiceField(label=_("材料类别"), choices=DossierItem.choices)
    file = DocumentsField(label=_("文件"))

    def payload(self) -> dict:
        # Several files of one kind (the pages of a scan, photos): all stored, or none.
        return {"kind": self.cleaned_data["kind"], "uploads": self.cleaned_data["file"]}


class DossierTaskForm(AttachmentForm):
    """The upload of the committee's "卷宗待补充" task: only the papers still wanted. Posted to the
    ``add_attachment`` action like the dossier panel's form, with ids of its own on the same page."""

    record_name = "dossier_task"

    def __init__(self, *args, items: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(i, DossierItem(i).label) for i in items]
        self.fields["kind"].label = _("补充的材料")


class CorrectionForm(RecordForm):
    """退回补正: the papers the committee must add (the dossier's missing must-items ticked)."""

    record_name = "request_correction"
    step_required = ("items",)

    items = forms.MultipleChoiceField(
        label=_("待补正的卷宗材料"), choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("补正说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：身份证明复印件不清晰，请重新扫描上传。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        missing = {e.item for e in missing_entries(self.referral)}
        self.fields["items"].choices = [
            (i, f"{DossierItem(i).label}（{_('缺')}）" if i in missing else DossierItem(i).label) for i in REQUESTABLE
        ]
        if not self.is_bound:
            self.fields["items"].initial = [i for i in REQUESTABLE if i in missing]
