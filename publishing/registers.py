"""The kinds of public register: what each one selects, its columns, its wording and its cadence.

A register kind is a definition, not data. The Register row holds what the IG team may edit (organisation,
introduction, contact details); the kind holds what the code decides (which rows, which columns). A second
register is a second subclass registered here, and every other part of publishing (snapshot, render, public
pages, archive, diff) works from the kind's columns and rows alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from agreements import selectors as agreement_selectors
from agreements.models import Agreement, DataLevel, Party


class Cadence:
    QUARTERLY = "quarterly"
    ANNUALLY = "annually"
    CHOICES = [(QUARTERLY, "Quarterly"), (ANNUALLY, "Annually")]


def financial_year(on: dt.date) -> int:
    """The year the UK public sector's financial year starts in: 22 October 2025 is in 2025/26."""
    return on.year if on.month >= 4 else on.year - 1


def period_of(on: dt.date, cadence: str) -> tuple[str, str]:
    """(key, label) of the publication period a date falls in, e.g. ("2025-26-Q3", "2025/26 Q3")."""
    year = financial_year(on)
    span = f"{year}/{(year + 1) % 100:02d}"
    if cadence == Cadence.ANNUALLY:
        return f"{year}-{(year + 1) % 100:02d}", span
    quarter = ((on.month - 4) % 12) // 3 + 1
    return f"{year}-{(year + 1) % 100:02d}-Q{quarter}", f"{span} Q{quarter}"


@dataclass(frozen=True)
class Column:
    key: str
    label: str


Row = dict[str, str]


class RegisterKind:
    """One kind of public register. Subclasses set the class attributes and implement rows()."""

    slug: ClassVar[str]
    title: ClassVar[str]
    # The heading of the PDF and its footer line ("Sub Licensing of Data — October 2025").
    document_title: ClassVar[str]
    # Stem of download file names: <stem>-2025-10-22.pdf
    file_stem: ClassVar[str]
    cadence: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    # The column that identifies a row across editions, for "what changed".
    key_column: ClassVar[str]
    default_introduction: ClassVar[str]
    # The sentence that introduces the table on the public page and in the PDF.
    table_lead: ClassVar[str] = ""

    def rows(self, *, on: dt.date) -> list[Row]:
        raise NotImplementedError

    def removal_notes(self, *, on: dt.date) -> dict[str, str]:
        """{key: public reason} for entries the publication rules leave out on the day; shown against rows the
        "what changed" section lists as removed. The reasons must be safe to publish."""
        return {}

    @property
    def column_labels(self) -> list[str]:
        return [column.label for column in self.columns]


def _names(agreement: Agreement, role: str) -> list[Party]:
    # parties are prefetched by the selector; filtering in Python keeps it to one query for all rows.
    return [party for party in agreement.parties.all() if party.role == role]


class SubLicenceRegister(RegisterKind):
    slug = "sub-licences"
    title = "Sub Licence Release Register"
    document_title = "Sub Licensing of Data"
    file_stem = "sub-licence-release-register"
    cadence = Cadence.QUARTERLY
    columns = (
        Column("reference", "Reference Number"),
        Column("organisation", "Partner Health & Social Care Organisation"),
        Column("data_level", "Level of Data Shared"),
        Column("ods_code", "ODS Code"),
    )
    key_column = "reference"
    table_lead = (
        "The list of current sub-licensees is set out in the Sub Licence Release Register table below. "
        "The register is updated quarterly."
    )
    default_introduction = (
        "The integrated care board (ICB) receives pseudonymised data from NHS England under a Data Sharing "
        "Agreement for the purposes of commissioning health and care services for its population. Pseudonymised "
        "data is data that has been processed so that it cannot be attributed to a specific individual: "
        "identifiers are replaced with a unique number or code (a pseudonym).\n\n"
        "Sub Licensing is a process through which the data shared by NHS England with the ICB can be shared with "
        "partner organisations within the integrated care system to collectively meet the needs of the "
        "population.\n\n"
        "Sub Licensing will be implemented through a formal agreement that enables the sharing of pseudonymised "
        "data with the partner organisation. The agreement adheres to strict legal and ethical guidelines, "
        "including compliance with NHS England's Data Sharing Framework and data protection laws, ensuring the "
        "highest protection of individuals' privacy and confidentiality."
    )

    def rows(self, *, on: dt.date) -> list[Row]:
        # THE selection of this register lives in agreements.selectors; it also drops sub-licences that break the
        # chain or partner-assurance rules, so it is never re-queried here.
        agreements = sorted(
            agreement_selectors.sub_licences_publishable(on=on), key=lambda agreement: agreement.sub_licence_sort_key
        )
        levels = dict(DataLevel.choices)
        rows = []
        for agreement in agreements:
            partners = sorted(
                (party.organisation for party in _names(agreement, Party.Role.SUB_LICENSEE)), key=lambda o: o.name
            )
            rows.append(
                {
                    "reference": agreement.reference,
                    "organisation": "; ".join(organisation.name for organisation in partners),
                    "data_level": str(levels.get(agreement.data_level, agreement.data_level)),
                    "ods_code": "; ".join(organisation.ods_code for organisation in partners),
                }
            )
        return rows

    def removal_notes(self, *, on: dt.date) -> dict[str, str]:
        return {dropped.reference: dropped.public_reason for dropped in agreement_selectors.sub_licences_dropped(on=on)}


REGISTER_KINDS: dict[str, RegisterKind] = {kind.slug: kind for kind in (SubLicenceRegister(),)}


def register_kind(slug: str) -> RegisterKind:
    try:
        return REGISTER_KINDS[slug]
    except KeyError:
        raise LookupError(
            f"There is no register called {slug!r}. Known registers: {', '.join(REGISTER_KINDS)}"
        ) from None
