"""The page forms of 复查复核 (``referrals/appeals.py`` checks the values and names every mistake)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from referrals import appeals
from referrals.errors import InvalidInput
from referrals.forms import ActionForm, DateInput, add_rule_errors
from referrals.models import Appeal, Lawyer


class ReplyForm(ActionForm):
    delivered_on = forms.DateField(
        label=_("答复意见送达日期"),
        widget=DateInput(),
        help_text=_("申请人收到书面答复意见的日期，申请复查的30日期限自此起算。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_on"].initial = self.referral.reply_delivered_on or timezone.localdate()


class RequestFields(forms.Form):
    """What a 复查 or 复核 request records; the office keeping it decides which lawyers may be named."""

    requested_on = forms.DateField(label=_("收到申请日期"), widget=DateInput())
    grounds = forms.CharField(
        label=_("申请人的请求和理由"), max_length=appeals.GROUNDS_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    lawyer = forms.ModelChoiceField(
        label=_("参与的律师（复查复核律师工作室，可选）"), queryset=Lawyer.objects.none(), required=False
    )
    body = forms.CharField(
        label=_("办理机关"),
        max_length=appeals.BODY_MAX,
        required=False,
        help_text=_("上级信访部门不在本系统中时填写，如“广东省信访局”。"),
    )

    def clean(self):
        # The rule's own mistakes (a date in the future, blank grounds) said with the form's, on the first send.
        data = super().clean()
        proxy = "body" in self.fields and self.fields["body"].required
        add_rule_errors(
            self,
            _check_request,
            requested_on=data.get("requested_on"),
            grounds=data.get("grounds", self.data.get("grounds", "")) or "",
            body=data.get("body", "") or "",
            proxy=proxy,
        )
        return data

    def offer(self, referral, user) -> None:
        """Offer the lawyers of the office that keeps the next request, and ask for the body only
        where that office records it for a body outside the system."""
        from referrals import permissions

        self.fields["requested_on"].initial = timezone.localdate()
        kind = appeals.next_kind(referral) if referral is not None else None
        if kind is None:
            offices = permissions.grants_of(user).orgs("refer_from") | permissions.grants_of(user).orgs("review_for")
            self.fields["lawyer"].queryset = Lawyer.objects.filter(office_id__in=offices, active=True)
            return
        office, proxy = appeals.keeper(referral, kind)
        self.fields["lawyer"].queryset = Lawyer.objects.filter(office=office, active=True)
        if not proxy:
            del self.fields["body"]
        else:
            self.fields["body"].required = True


def _check_request(**values) -> None:
    _grounds, _body, errors = appeals.check_request(**values)
    if errors:
        raise InvalidInput(errors)


class RegisterAppealForm(RequestFields, ActionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer(self.referral, self.user)

    def payload(self) -> dict:
        data = dict(self.cleaned_data)
        data.setdefault("body", "")
        return data


class AppealByNumberForm(RequestFields):
    """The 复查复核 page's form: the office above finds the referral by the number on the reply."""

    number = forms.CharField(
        label=_("案件编号"), max_length=32, help_text=_("书面答复意见上的案件编号，如：JM-2026-000123")
    )
    field_order = ["number", "requested_on", "grounds", "lawyer", "body"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer(None, user)


class AnswerAppealForm(ActionForm):
    outcome = forms.ChoiceField(
        label=_("办理结果"),
        choices=[("", _("（只登记听证）")), *Appeal.Outcome.choices],
        required=False,
    )
    decided_on = forms.DateField(label=_("意见日期"), widget=DateInput(), required=False)
    opinion = forms.CharField(
        label=_("复查复核意见"),
        max_length=appeals.OPINION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    delivered_on = forms.DateField(
        label=_("意见送达日期"),
        widget=DateInput(),
        required=False,
        help_text=_("送达后不能再更正；申请复核的30日期限自此起算。"),
    )
    hearing_days = forms.IntegerField(
        label=_("听证天数"),
        min_value=0,
        max_value=appeals.HEARING_MAX_DAYS,
        required=False,
        help_text=_("听证所需时间不计入答复期限。"),
    )
    document = forms.FileField(label=_("意见书（可选）"), required=False, help_text=_("PDF、图片或 Word 文件。"))

    def clean(self):
        data = super().clean()
        values = {k: data.get(k) for k in ("decided_on", "delivered_on", "hearing_days")}
        add_rule_errors(
            self,
            appeals.check_answer,
            outcome=data.get("outcome", "") or "",
            opinion=data.get("opinion", self.data.get("opinion", "")) or "",
            **values,
        )
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = appeals.unfinished(self.referral) if self.referral.pk else None
        if current is not None:
            self.fields["outcome"].initial = current.outcome
            self.fields["decided_on"].initial = current.decided_on or timezone.localdate()
            self.fields["opinion"].initial = current.opinion
            self.fields["hearing_days"].initial = current.hearing_days
