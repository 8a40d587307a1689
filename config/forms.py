"""Form rendering: every field wrapped the same way (label, widget, help, errors)."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
