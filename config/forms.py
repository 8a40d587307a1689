"""Form rendering: every field wrapped the same way (label, widget, help, errors)."""

from django import forms
from django.forms.renderers import TemplatesSetting


class BoundField(forms.BoundField):
    """A field as the pages show it. ``starred``: the field must be filled in, either by its own rule
    or because the step its form is for requires it (``step_required`` of the form: the workflow, not
    the form, refuses it when empty, naming every missing element at once)."""

    @property
    def starred(self) -> bool:
        return self.field.required or self.name in getattr(self.form, "step_required", ())

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        # Said to assistive technology too; a choice list says it on its legend (radios and boxes
        # take no aria-required), and a single check box is asked for by its own words.
        if (
            self.starred
            and not self.field.required
            and getattr(widget, "input_type", None) not in ("radio", "checkbox")
        ):
            attrs["aria-required"] = "true"
        return attrs


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
    bound_field_class = BoundField
