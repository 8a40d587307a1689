"""Forms of the roster pages: validation only (the importer checks the file itself)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from townships.models import Mediator, Organisation


class CommitteeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.region.full_name()} · {obj.name}" if obj.region.level == "township" else obj.name


class RosterImportForm(forms.Form):
    file = forms.FileField(
        label=_("花名册文件"),
        help_text=_("支持 .xlsx、.xls、.ods、.csv（UTF-8 或 GBK）。上传后先预览检查，确认无误再导入。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv"}),
    )
    replace = forms.BooleanField(
        label=_("替换花名册：表中涉及的调委会里，不在表中的人员标为“不在册”（不会删除）"),
        required=False,
    )
    committee = CommitteeChoiceField(
        label=_("表中没有县(市、区)、镇(街)列时，导入到"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("（表中已有县(市、区)和镇(街)列）"),
    )

    def __init__(self, *args, committees=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if committees is not None:
            self.fields["committee"].queryset = committees


class RosterFilterForm(forms.Form):
    STATUS_CHOICES = [("active", _("在册")), ("inactive", _("不在册")), ("all", _("全部"))]

    search = forms.CharField(label=_("搜索"), required=False, max_length=50)
    committee = CommitteeChoiceField(
        label=_("调委会"), queryset=Organisation.objects.none(), required=False, empty_label=_("全部")
    )
    region = forms.ChoiceField(label=_("区域"), required=False)
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)
    position = forms.ChoiceField(label=_("职务"), choices=[("", _("全部"))] + Mediator.Position.choices, required=False)
    employment = forms.ChoiceField(
        label=_("专兼职"), choices=[("", _("全部"))] + Mediator.Employment.choices, required=False
    )

    def __init__(self, *args, committees=None, regions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if committees is not None:
            self.fields["committee"].queryset = committees
        self.fields["region"].choices = [("", _("全部"))] + list(regions)
        self.fields["search"].widget.attrs["placeholder"] = _("姓名，或完整的手机号、身份证号")
