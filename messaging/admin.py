"""Admin: the outbox read-only (it changes through the sender and the API), opt-outs kept by hand,
and the wording of each kind of message."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from messaging import texts
from messaging.models import Message, OptOut, TextTemplate
from townships.validators import mask_phone, validate_mobile


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "referral", "template", "masked_to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["referral__number", "provider_message_id"]
    list_select_related = ["referral"]
    exclude = ["to", "params"]  # the number masked in the list; the params are the text again

    @admin.display(description=_("接收号码"))
    def masked_to(self, message: Message) -> str:
        return mask_phone(message.to)


class OptOutForm(forms.ModelForm):
    class Meta:
        model = OptOut
        fields = ["number", "note"]

    def clean_number(self) -> str:
        try:
            return validate_mobile(self.cleaned_data["number"])
        except ValidationError as e:
            raise forms.ValidationError(e.messages) from None


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    form = OptOutForm
    list_display = ["number", "note", "created_at"]
    search_fields = ["number"]


class TextTemplateForm(forms.ModelForm):
    class Meta:
        model = TextTemplate
        fields = ["template", "text"]

    def clean(self):
        data = super().clean()
        if data.get("template") and data.get("text"):
            try:
                texts.check(data["template"], data["text"])
            except ValidationError as e:
                self.add_error("text", e)
        return data


@admin.register(TextTemplate)
class TextTemplateAdmin(admin.ModelAdmin):
    """Deleting an administrator's wording brings back the built-in one."""

    form = TextTemplateForm
    list_display = ["template", "text", "updated_at", "updated_by"]
    readonly_fields = ["built_in", "updated_by"]
    fields = ["template", "built_in", "text", "updated_by"]

    @admin.display(description=_("系统默认内容"))
    def built_in(self, row: TextTemplate) -> str:
        return str(texts.TEXTS[Message.Template(row.template)]) if row.template else ""

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
