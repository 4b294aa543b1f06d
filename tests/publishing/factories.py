"""Publishing test helpers. Editions are made through the services, since their files are the point.

Sub-licences here satisfy the publication rules (agreements.rules): a parent NHS England agreement that permits
sub-licensing and covers their dates, and a partner with current DSPT and ICO assurance.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from agreements.models import Agreement, DataLevel, Organisation
from publishing import services
from publishing.models import Edition, Register
from tests.factories import AgreementFactory, OrganisationFactory, SubLicenceFactory

SEED_DAY = dt.date(2025, 10, 22)
PARENT_REFERENCE = "DARS-NIC-655409-Q1L8R"


def sub_licence_register() -> Register:
    return services.register_ensure(slug="sub-licences")


def parent_agreement() -> Agreement:
    return Agreement.objects.filter(reference=PARENT_REFERENCE).first() or AgreementFactory(
        reference=PARENT_REFERENCE,
        start_date=dt.date(2020, 4, 1),
        end_date=dt.date(2030, 3, 31),
        data_level=DataLevel.PSEUDONYMISED,
        permits_sub_licensing=True,
    )


def partner(**fields: Any) -> Organisation:
    defaults = {"dspt_status": Organisation.DsptStatus.MET, "dspt_assessment_year": "2025-26"}
    return OrganisationFactory(**{**defaults, **fields})


def sub_licence(**fields: Any) -> Agreement:
    """An active, public sub-licence that the publication rules let through (unless fields say otherwise)."""
    defaults: dict[str, Any] = {"parent": parent_agreement(), "start_date": dt.date(2024, 4, 1)}
    if "sub_licensee" not in fields:
        defaults["sub_licensee"] = partner()
    return SubLicenceFactory(**{**defaults, **fields})


def seed_sub_licence(**fields: Any) -> Agreement:
    """SL/25/1 to Leicester City Council (ODS 509), Pseudonymised, as in the published seed."""
    lcc = Organisation.objects.filter(ods_code="509").first() or partner(name="Leicester City Council", ods_code="509")
    return sub_licence(**{"reference": "SL/25/1", "start_date": dt.date(2025, 10, 22), "sub_licensee": lcc, **fields})


def rows_of(edition: Edition) -> list[dict[str, str]]:
    """An edition's stored rows, in table order."""
    return list(edition.stored_rows(entries="none"))


def entries_of(edition: Edition) -> dict[str, dict[str, Any]]:
    """{reference: public entry} of an edition's stored rows that have one."""
    return {row["reference"]: entry for row, entry in edition.stored_rows().pairs() if entry is not None}


def publish(register: Register | None = None, *, on: dt.date = SEED_DAY, trigger: str = "command") -> Edition:
    return services.edition_publish(register=register or sub_licence_register(), on=on, trigger=trigger)


# The Information Sharing Register ("Organisations we share data with").

OWN_ODS_CODE = "QK1"  # settings.PORTAL_ORGANISATION_ODS_CODE's default: the ICB whose registers these are.


def information_sharing_register() -> Register:
    return services.register_ensure(slug="information-sharing")


def own_organisation() -> Organisation:
    return Organisation.objects.filter(ods_code=OWN_ODS_CODE).first() or OrganisationFactory(
        name="NHS Leicester, Leicestershire and Rutland ICB", ods_code=OWN_ODS_CODE, kind=Organisation.Kind.ICB
    )


def shared_agreement(
    *, partners: list[Organisation] | None = None, purposes: list[Any] = (), **fields: Any
) -> Agreement:
    """An active, public agreement between our organisation and partners (a new one unless given)."""
    from agreements.models import Party

    agreement = AgreementFactory(**{"kind": Agreement.Kind.ISA, "review_date": dt.date(2026, 10, 22), **fields})
    Party.objects.create(agreement=agreement, organisation=own_organisation(), role=Party.Role.JOINT_CONTROLLER)
    for organisation in partners or [partner()]:
        Party.objects.create(agreement=agreement, organisation=organisation, role=Party.Role.JOINT_CONTROLLER)
    agreement.purposes.set(purposes)
    return agreement


def statutory_return(**fields: Any) -> Agreement:
    """Adult social care client level data from Leicester City Council to NHS England (shared/seeds/002_*)."""
    from agreements.models import Party

    lcc = Organisation.objects.filter(ods_code="509").first() or partner(name="Leicester City Council", ods_code="509")
    nhse = Organisation.objects.filter(ods_code="X24").first() or partner(name="NHS England", ods_code="X24")
    defaults: dict[str, Any] = {
        "kind": Agreement.Kind.STATUTORY_RETURN,
        "reference": "SR-LCC-ASC-CLD",
        "summary": "Adult social care client level data, every quarter.",
        "data_level": DataLevel.IDENTIFIABLE,
        "article_6_basis": Agreement.Article6.LEGAL_OBLIGATION,
        "common_law_basis": Agreement.CommonLaw.LEGAL_REQUIREMENT,
        "statutory_gateway": "Health and Social Care Act 2012, section 259",
        "opt_out": Agreement.OptOut.NOT_APPLIED,
        "opt_out_reason": "A legal requirement to share with NHS England.",
        "start_date": dt.date(2023, 4, 1),
        "end_date": None,
        "review_date": dt.date(2025, 10, 22),
    }
    agreement = AgreementFactory(**{**defaults, **fields})
    Party.objects.create(agreement=agreement, organisation=lcc, role=Party.Role.PROVIDER)
    Party.objects.create(agreement=agreement, organisation=nhse, role=Party.Role.RECIPIENT)
    return agreement
