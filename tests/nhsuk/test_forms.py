"""The staff forms on their own: NHS.UK markup and plain messages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django import forms

from staff.forms.agreements import NHSDateField, NHSFormMixin, OrganisationForm, ReasonForm

pytestmark = pytest.mark.django_db


class DateForm(NHSFormMixin, forms.Form):
    when = NHSDateField(label="Start date")


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("1", "4", "2026", dt.date(2026, 4, 1)),
        (" 01 ", "04", "2026", dt.date(2026, 4, 1)),
        ("29", "2", "2028", dt.date(2028, 2, 29)),
    ],
)
def test_date_input_reads_day_month_year(day: str, month: str, year: str, expected: dt.date) -> None:
    form = DateForm({"when_day": day, "when_month": month, "when_year": year})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["when"] == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("29", "2", "2026", "Start date must be a real date, like 31 3 2026"),
        ("1", "13", "2026", "Start date must be a real date, like 31 3 2026"),
        ("1", "4", "26", "Start date must be a real date, like 31 3 2026"),
        ("", "4", "", "Start date must include a day and year"),
        ("", "", "", "This field is required."),
        ("9" * 30, "1", "2026", "Start date must be a real date, like 31 3 2026"),
        ("1", "9" * 30, "2026", "Start date must be a real date, like 31 3 2026"),
    ],
)
def test_date_input_explains_what_is_wrong(day: str, month: str, year: str, message: str) -> None:
    form = DateForm({"when_day": day, "when_month": month, "when_year": year})
    assert not form.is_valid()
    assert form.errors["when"] == [message]


def test_date_input_keeps_what_was_typed() -> None:
    html = str(DateForm({"when_day": "31", "when_month": "2", "when_year": "2026"})["when"].as_field_group())
    assert 'name="when_day"' in html and 'value="31"' in html and 'value="2"' in html and 'value="2026"' in html
    assert "nhsuk-input--error" in html
    assert 'id="id_when-error"' in html
    assert 'aria-describedby="id_when-error"' in html  # on the fieldset
    assert "nhsuk-date-input" in html


def test_text_field_markup_has_label_hint_and_error() -> None:
    form = OrganisationForm({"name": "", "ods_code": "Q K1", "kind": "icb", "dspt_status": "met"})
    assert not form.is_valid()
    html = str(form["ods_code"].as_field_group())
    assert '<label class="nhsuk-label" for="id_ods_code">' in html
    assert '<div class="nhsuk-hint" id="id_ods_code-hint">' in html
    assert '<span class="nhsuk-error-message" id="id_ods_code-error">' in html
    assert 'class="nhsuk-input nhsuk-input--error nhsuk-input--width-10 nhsuk-input--code"' in html, html
    assert 'aria-describedby="id_ods_code-hint id_ods_code-error"' in html
    assert form.errors["name"] == ["Enter the organisation's name"]


def test_radios_have_no_blank_choice_and_selects_say_choose() -> None:
    html = OrganisationForm().as_div()
    assert "---------" not in html
    assert 'class="nhsuk-radios__input"' not in html or "---" not in html


def test_reason_form_required_and_optional() -> None:
    required = ReasonForm({"reason": " "}, label="Why", required=True, required_message="Enter why")
    assert not required.is_valid() and required.errors["reason"] == ["Enter why"]
    optional = ReasonForm({"reason": ""}, label="Comment", required=False)
    assert optional.is_valid()
    assert optional.fields["reason"].label == "Comment (optional)"


def test_a_long_select_renders_what_djangos_select_renders() -> None:
    from nhsuk.forms import LongSelect

    class Pick(NHSFormMixin, forms.Form):
        fast = forms.ChoiceField(
            choices=[("", "Any"), ("1", "Tom & Jerry's <b>"), ("2", "Two"), ("2", "Two again")], widget=LongSelect
        )
        slow = forms.ChoiceField(choices=[("", "Any"), ("1", "Tom & Jerry's <b>"), ("2", "Two"), ("2", "Two again")])

    form = Pick({"fast": "2", "slow": "2"})

    def squeezed(html: str) -> str:
        return (
            re.sub(r">\s+<", "><", html).replace('name="slow"', 'name="fast"').replace('id="id_slow"', 'id="id_fast"')
        )

    assert squeezed(str(form["fast"])) == squeezed(str(form["slow"]))
    assert str(form["fast"]).count(" selected") == 1
    assert "Tom &amp; Jerry&#x27;s &lt;b&gt;" in str(form["fast"])


@pytest.mark.django_db
def test_a_long_select_of_a_model_reads_only_the_label_columns_and_renders_what_djangos_select_renders() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from agreements.models import Organisation
    from nhsuk.forms import LongSelect
    from tests.factories import OrganisationFactory

    OrganisationFactory(name="Tom & Jerry's <b> council", ods_code="X1")
    chosen = OrganisationFactory(name="Another council", ods_code="X2")
    widget = LongSelect(label_fields=("name", "ods_code"), label=Organisation.label)

    class Pick(NHSFormMixin, forms.Form):
        fast = forms.ModelChoiceField(Organisation.objects.order_by("name"), empty_label="Any", widget=widget)
        slow = forms.ModelChoiceField(Organisation.objects.order_by("name"), empty_label="Any")

    form = Pick({"fast": chosen.pk, "slow": chosen.pk})
    assert form.is_valid()
    with CaptureQueriesContext(connection) as queries:
        fast = str(form["fast"])
    assert len(queries) == 1 and '"ods_code"' in queries[0]["sql"] and '"dspt_status"' not in queries[0]["sql"]
    slow = re.sub(r">\s+<", "><", str(form["slow"])).replace('name="slow"', 'name="fast"').replace("id_slow", "id_fast")
    assert re.sub(r">\s+<", "><", fast) == slow
    assert f'<option value="{chosen.pk}" selected>Another council (X2)</option>' in fast
    assert "Tom &amp; Jerry&#x27;s &lt;b&gt; council (X1)" in fast
