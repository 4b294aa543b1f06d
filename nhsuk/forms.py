"""The NHS.UK form kit: widgets, the bound field that adds NHS.UK classes and ids, and the renderer that lays out
every field (label, hint, error message) and the error summary through the templates in nhsuk/templates/forms/.
Every staff form uses it through NHSFormMixin. https://service-manual.nhs.uk/design-system/components
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import BaseRenderer, TemplatesSetting
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def whole_number(text: Any, *, maximum: int) -> int | None:
    """The whole number typed, if it is one from 0 to `maximum` in the digits 0-9; None for anything else.

    str.isdigit() is not the test: "²".isdigit() is True and int("²") raises, and int() also reads other
    scripts' digits ("٣" is 3) and thousands of digits at quadratic cost."""
    text = str(text).strip()
    if not text or not text.isascii() or not text.isdecimal() or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


class NHSDateInput(forms.Widget):
    """The NHS.UK date input: three boxes, day, month and year. https://service-manual.nhs.uk/design-system/components/date-input"""

    template_name = "forms/widgets/date.html"
    use_fieldset = True
    parts = ("day", "month", "year")

    def value_from_datadict(self, data: Any, files: Any, name: str) -> tuple[str, ...] | None:
        values = tuple((data.get(f"{name}_{part}") or "").strip() for part in self.parts)
        return values if any(values) else None

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(f"{name}_{part}" in data for part in self.parts)

    def format_value(self, value: Any) -> dict[str, str]:
        if isinstance(value, dt.date):
            return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        if isinstance(value, tuple | list) and len(value) == 3:
            return dict(zip(self.parts, (str(v) for v in value), strict=True))
        if isinstance(value, str) and value:
            try:
                return self.format_value(dt.date.fromisoformat(value))
            except ValueError:
                pass
        return {"day": "", "month": "", "year": ""}

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else id_

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["parts"] = [("day", "Day", "2"), ("month", "Month", "2"), ("year", "Year", "4")]
        return context


class NHSDateField(forms.DateField):
    widget = NHSDateInput

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError as error:
                raise ValidationError(self._message("invalid"), code="invalid") from error
        day, month, year = value
        missing = [part for part, text in zip(NHSDateInput.parts, value, strict=True) if not text]
        if missing:
            raise ValidationError(f"{self.label} must include a {' and '.join(missing)}", code="incomplete")
        numbers = (whole_number(day, maximum=31), whole_number(month, maximum=12), whole_number(year, maximum=9999))
        if None in numbers or len(year) != 4:
            raise ValidationError(self._message("invalid"), code="invalid")
        try:
            return dt.date(numbers[2] or 0, numbers[1] or 0, numbers[0] or 0)
        except ValueError as error:  # 31 2 2026, or a day 0
            raise ValidationError(self._message("invalid"), code="invalid") from error

    def _message(self, code: str) -> str:
        return f"{self.label} must be a real date, like 31 3 2026"


class NHSBoundField(BoundField):
    """Adds the NHS.UK classes and the ids of the hint and error message to each widget."""

    @property
    def hint_id(self) -> str:
        return f"{self.auto_id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}-error"

    @property
    def anchor_id(self) -> str:
        """Where the error summary's link for this field goes: its first input."""
        widget = self.field.widget
        if isinstance(widget, NHSDateInput):
            return f"{self.auto_id}_day"
        if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            return f"{self.auto_id}_0"
        return self.auto_id

    @property
    def kind(self) -> str:
        widget = self.field.widget
        if isinstance(widget, NHSDateInput):
            return "date"
        # CheckboxSelectMultiple is a subclass of RadioSelect, so it is asked about first.
        if isinstance(widget, forms.CheckboxSelectMultiple):
            return "checkboxes"
        if isinstance(widget, forms.RadioSelect):
            return "radios"
        if isinstance(widget, forms.CheckboxInput):
            return "checkbox"
        if isinstance(widget, forms.FileInput):
            return "file"
        if widget.is_hidden:
            return "hidden"
        return "input"

    @property
    def describedby(self) -> str:
        ids = []
        if self.help_text:
            ids.append(self.hint_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    def build_widget_attrs(self, attrs: dict[str, Any], widget: forms.Widget | None = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        error = bool(self.errors)
        # These attrs are laid over widget.attrs, so the widget's own classes (widths) are carried over here.
        classes = " ".join(filter(None, [widget.attrs.get("class", ""), str(attrs.get("class", ""))]))
        if isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
            base = "nhsuk-select"
        elif isinstance(widget, forms.Textarea):
            base = "nhsuk-textarea"
        elif isinstance(widget, forms.FileInput):
            base = "nhsuk-file-upload__input"
            error = False
        elif isinstance(widget, forms.TextInput | forms.URLInput | forms.EmailInput | forms.NumberInput):
            base = "nhsuk-input"
        else:
            base = ""
        if base:
            attrs["class"] = " ".join(filter(None, [base, f"{base}--error" if error else "", classes]))
        if isinstance(widget, NHSDateInput):
            attrs["error"] = error
        if self.describedby and not isinstance(widget, NHSDateInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
            attrs["aria-describedby"] = self.describedby
        return attrs


class LongSelect(forms.Select):
    """A select of hundreds or thousands of options (every organisation), written out here rather than through
    Django's template for each option, which costs about half a millisecond an option. The same markup.

    For a model choice field, `label_fields` and `label` (e.g. ("name", "ods_code") and the model's own label
    function) read each option's label from those columns alone, instead of making a model instance per option."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        label_fields: tuple[str, ...] = (),
        label: Callable[..., str] | None = None,
    ) -> None:
        super().__init__(attrs)
        self.label_fields, self.label = label_fields, label

    def _option_pairs(self) -> list[tuple[Any, Any]]:
        if not (self.label_fields and self.label and isinstance(self.choices, ModelChoiceIterator)):
            return list(self.choices)
        field = self.choices.field
        if field.to_field_name or getattr(field, "null_label", None):
            # Options keyed by another field, or django-filter's "null" option: Django's own iteration.
            return list(self.choices)
        first = [("", field.empty_label)] if field.empty_label is not None else []
        label, queryset = self.label, self.choices.queryset
        return first + [(pk, label(*values)) for pk, *values in queryset.values_list("pk", *self.label_fields)]

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        choices = self._option_pairs()
        if self.allow_multiple_selected or any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)  # groups and multiple choices: Django's own
        wanted = set(self.format_value(value))
        options, chosen = [], False
        for option_value, label in choices:
            # As ChoiceWidget.optgroups: the first option with the value is the selected one.
            selected = not chosen and str(option_value) in wanted
            chosen = chosen or selected
            # html.escape, not Django's escape: the same text, without a lazy-string check per call.
            value_text, label_text = html.escape(str(option_value)), html.escape(str(label))
            options.append(f'<option value="{value_text}"{" selected" if selected else ""}>{label_text}</option>')
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(options)),
        )


class NHSRenderer(TemplatesSetting):
    """The project's templates (templates/forms/ in front of Django's own), with the NHS.UK field layout."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
    bound_field_class = NHSBoundField


# The mixin is always combined with a form class, so type checkers see it as one.
if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class NHSFormMixin(_FormBase):
    """For every staff form: NHS.UK markup, and no browser validation (the server says what is wrong)."""

    default_renderer = NHSRenderer
    use_required_attribute = False
    # Field name -> "nhsuk-input--width-10" and the like.
    widths: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, width in self.widths.items():
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = width
        for field in self.fields.values():
            tidy_blank_choice(field)

    def apply_service_error(self, error: ValidationError) -> None:
        """Put a service's ValidationError at the fields it names; anything else goes to the top of the form."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = field if field in self.fields else None
                for item in errors:
                    self.add_error(target, item)
        else:
            self.add_error(None, error)


def tidy_blank_choice(field: forms.Field) -> None:
    """Radios never offer Django's "---------"; a select says "Choose" instead."""
    if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
        if isinstance(field.widget, forms.RadioSelect):
            field.empty_label = None
        elif field.empty_label == "---------":
            field.empty_label = "Choose"
    elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.MultipleChoiceField):
        # Once set, a ChoiceField's choices are a list (or a lazy iterator); the stubs type the getter as any
        # value the setter accepts.
        choices = list(cast("Iterable[Any]", field.choices))
        if isinstance(field.widget, forms.RadioSelect):
            field.choices = [choice for choice in choices if choice[0] != ""]
        else:
            field.choices = [("", "Choose") if c == ("", "---------") else c for c in choices]
