import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from agreements.models import ODS_CODE_MESSAGE, Agreement, DataLevel, Organisation
from tests.factories import AgreementFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _organisation(**overrides: object) -> Organisation:
    fields = {"name": "Leicester City Council", "ods_code": "509", "kind": Organisation.Kind.LOCAL_AUTHORITY}
    return Organisation(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("509", "509"),
        (" qk1 ", "QK1"),
        ("rwe", "RWE"),
        ("C82001", "C82001"),
        ("\tx24\n", "X24"),
        ("ABCDE12345", "ABCDE12345"),
    ],
)
def test_ods_code_is_trimmed_and_upper_cased(typed: str, stored: str) -> None:
    organisation = _organisation(ods_code=typed)
    organisation.full_clean()
    assert organisation.ods_code == stored


@pytest.mark.parametrize("typed", ["", "50", "C82 001", "QK-1", "QK1!", "ABCDE123456", "<b>1</b>", "é12"])
def test_ods_code_refuses_anything_else_with_a_clear_message(typed: str) -> None:
    with pytest.raises(ValidationError) as error:
        _organisation(ods_code=typed).full_clean()
    messages = error.value.message_dict["ods_code"]
    assert messages == [ODS_CODE_MESSAGE] or (typed == "" and messages == ["This field cannot be blank."])


def test_ods_code_message_is_exact() -> None:
    assert ODS_CODE_MESSAGE == "Enter an ODS code of 3 to 10 letters and numbers, like 509, QK1 or C82001"


def test_ods_code_is_unique_after_normalising() -> None:
    OrganisationFactory(ods_code="509")
    with pytest.raises(ValidationError) as error:
        _organisation(ods_code=" 509 ").full_clean()
    assert error.value.message_dict["ods_code"] == ["An organisation with this ODS code already exists"]


@pytest.mark.parametrize("number", ["Z1234567", "ZA123456", "zb310554"])
def test_ico_registration_number_accepts_the_ico_formats(number: str) -> None:
    organisation = _organisation(ico_registration_number=number)
    organisation.full_clean()
    assert organisation.ico_registration_number == number.upper()


@pytest.mark.parametrize("number", ["1234567", "Z123456", "ZAB12345", "Y1234567"])
def test_ico_registration_number_refuses_other_shapes(number: str) -> None:
    with pytest.raises(ValidationError) as error:
        _organisation(ico_registration_number=number).full_clean()
    assert error.value.message_dict["ico_registration_number"] == [
        "Enter an ICO registration number like Z1234567 or ZA123456"
    ]


def test_end_date_before_start_date_is_refused() -> None:
    agreement = AgreementFactory.build(start_date=dt.date(2025, 4, 1), end_date=dt.date(2025, 3, 31))
    with pytest.raises(ValidationError) as error:
        agreement.full_clean()
    assert error.value.message_dict["end_date"] == ["The end date must be the same as or after the start date"]


def test_end_date_before_start_date_is_refused_by_the_database_too() -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        AgreementFactory(start_date=dt.date(2025, 4, 1), end_date=dt.date(2025, 3, 1))


def test_review_date_before_start_is_refused() -> None:
    agreement = AgreementFactory.build(start_date=dt.date(2025, 4, 1), review_date=dt.date(2025, 1, 1))
    with pytest.raises(ValidationError) as error:
        agreement.full_clean()
    assert error.value.message_dict["review_date"] == ["The review date must be the same as or after the start date"]


def test_opt_out_not_applied_needs_a_reason() -> None:
    agreement = AgreementFactory.build(opt_out=Agreement.OptOut.NOT_APPLIED, opt_out_reason=" ")
    with pytest.raises(ValidationError) as error:
        agreement.full_clean()
    assert error.value.message_dict["opt_out_reason"] == ["Enter why the national data opt-out is not applied"]


@pytest.mark.parametrize("reference", ["DARS-NIC-655409-Q1L8R", "SL/25/1", "DPA_2025.4"])
def test_reference_accepts_letters_digits_and_separators(reference: str) -> None:
    AgreementFactory.build(reference=reference).full_clean()


@pytest.mark.parametrize("reference", ["", "/SL/1", "DSA 2025", "<script>", "x" * 51])
def test_reference_refuses_other_text(reference: str) -> None:
    with pytest.raises(ValidationError) as error:
        AgreementFactory.build(reference=reference).full_clean()
    assert "reference" in error.value.message_dict


def test_reference_is_unique() -> None:
    AgreementFactory(reference="DSA-1")
    with pytest.raises(ValidationError) as error:
        AgreementFactory.build(reference="DSA-1").full_clean()
    assert error.value.message_dict["reference"] == ["An agreement with this reference already exists"]


def test_title_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        AgreementFactory.build(title="x" * 10_000).full_clean()
    assert error.value.message_dict["title"] == ["Ensure this value has at most 200 characters (it has 10000)."]


def test_data_levels_rank_from_most_identifiable() -> None:
    ranks = [DataLevel.rank(level) for level in ("identifiable", "pseudonymised", "anonymised", "aggregate")]
    assert ranks == [0, 1, 2, 3]


def test_sub_licence_sort_key_orders_by_year_then_number() -> None:
    references = ["SL/25/10", "SL/26/1", "SL/25/2", "SL/24/7"]
    ordered = sorted(references, key=lambda r: Agreement(reference=r).sub_licence_sort_key)
    assert ordered == ["SL/24/7", "SL/25/2", "SL/25/10", "SL/26/1"]
