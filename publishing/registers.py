"""The kinds of public register: what each one selects, its columns, its wording and its cadence.

A register kind is a definition, not data. The Register row holds what the IG team may edit (organisation,
introduction, contact details); the kind holds what the code decides (which agreements, which columns, the
wording of the PDF and the file names). Every other part of publishing (snapshot, render, public pages, entry
pages, archive, diff) works from what the kind snapshots alone: a register is a RegisterKind subclass here.

A snapshot holds, for each agreement the register shows, its table row (the kind's columns, plus its
reference) and its public entry: the public fields the per-agreement page shows (see `public_entry`). Nothing
internal (DPIA reference, owner, documents, non-public agreements) is ever copied into either.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from django.conf import settings
from django.db.models import Field, Model, QuerySet

from agreements import selectors as agreement_selectors
from agreements.dates import format_date
from agreements.models import Agreement, Party


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
Entry = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """What an edition freezes: the table rows in order, and each row's public entry keyed by reference."""

    rows: list[Row]
    entries: dict[str, Entry]


# Read once per process, in the language then active: the portal is in English only.
@functools.cache
def _choice_labels(model: type[Model], field: str) -> dict[Any, str]:
    choices = cast("Field[Any, Any]", model._meta.get_field(field)).flatchoices
    return {value: str(label) for value, label in choices}


def _display(instance: Model | _Record | _Party, field: str) -> str:
    """What get_FOO_display() says, from labels read once: Django's builds the field's flat choices on every call,
    a third of a 10,000-row snapshot's time. `instance` is a model instance or a snapshot record of one."""
    value = getattr(instance, field)
    model = instance.model if isinstance(instance, _Record | _Party) else type(instance)
    return _choice_labels(model, field).get(value, str(value))


def legal_basis_text(agreement: PublicSource) -> str:
    """Article 6, Article 9 and the statutory gateway in plain words, e.g. "UK GDPR Article 6(1)(c) legal
    obligation; Article 9(2)(h) health or social care; Health and Social Care Act 2012, section 259"."""
    parts = [f"UK GDPR Article {_display(agreement, 'article_6_basis')}"]
    if agreement.article_9_condition:
        parts.append(f"Article {_display(agreement, 'article_9_condition')}")
    if agreement.statutory_gateway.strip():
        parts.append(agreement.statutory_gateway.strip())
    return "; ".join(parts)


def opt_out_text(agreement: PublicSource) -> str:
    """Does the national data opt-out apply? "Yes", or "No" and why not, from the agreement's opt-out fields."""
    reason = agreement.opt_out_reason.strip().rstrip(".")
    if agreement.opt_out == Agreement.OptOut.APPLIED:
        return "Yes"
    if agreement.kind == Agreement.Kind.STATUTORY_RETURN:
        return "No \u2014 a legal requirement (statutory return); the national data opt-out does not apply"
    if agreement.opt_out == Agreement.OptOut.NOT_APPLIED:
        return f"No. {reason}." if reason else "No"
    not_applicable = "No \u2014 the national data opt-out does not apply to this sharing"
    return f"{not_applicable}. {reason}." if reason else not_applicable


# What the rows and the public entries read of an agreement, and nothing else: row() and public_entry() take an
# Agreement, or a record of these fields.
PUBLIC_FIELDS = (
    "reference",
    "kind",
    "title",
    "summary",
    "data_level",
    "article_6_basis",
    "article_9_condition",
    "statutory_gateway",
    "start_date",
    "end_date",
    "review_date",
    "opt_out",
    "opt_out_reason",
)


@dataclass(frozen=True, slots=True)
class _Organisation:
    name: str
    ods_code: str


@dataclass(frozen=True, slots=True)
class _Party:
    model: ClassVar[type[Model]] = Party
    pk: int
    role: str
    organisation: _Organisation


@dataclass(frozen=True, slots=True)
class _Purpose:
    name: str


class _Record:
    """An agreement as the snapshot reads it: its public fields (PUBLIC_FIELDS), parties and purposes, no more."""

    model: ClassVar[type[Model]] = Agreement
    __slots__ = (*PUBLIC_FIELDS, "public_parties", "public_purposes")
    reference: str
    kind: str
    title: str
    summary: str
    data_level: str
    article_6_basis: str
    article_9_condition: str
    statutory_gateway: str
    start_date: dt.date | None
    end_date: dt.date | None
    review_date: dt.date | None
    opt_out: str
    opt_out_reason: str

    def __init__(self, values: Sequence[Any], parties: list[_Party], purposes: list[_Purpose]) -> None:
        for name, value in zip(PUBLIC_FIELDS, values, strict=True):
            setattr(self, name, value)
        self.public_parties = parties
        self.public_purposes = purposes


# What row() and public_entry() take: an Agreement (an amendment's proposed version, say), or a snapshot's record.
PublicSource = Agreement | _Record


# Rows fetched at a time from each of the snapshot's queries: its memory holds the rows and entries it makes, never
# every agreement read.
SNAPSHOT_BATCH = 2000


def _by_agreement(values: Iterable[tuple[Any, ...]]) -> Callable[[int], list[tuple[Any, ...]]]:
    """Over `values` ordered by their first item (an agreement's key): a function that, asked for keys in increasing
    order, returns each key's values (without the key). A merge, so that nothing is held beyond one agreement's."""
    groups = itertools.groupby(values, key=operator.itemgetter(0))
    current = next(groups, None)

    def take(pk: int) -> list[tuple[Any, ...]]:
        nonlocal current
        while current is not None and current[0] < pk:
            current = next(groups, None)
        if current is None or current[0] != pk:
            return []
        found = [value[1:] for value in current[1]]
        current = next(groups, None)
        return found

    return take


def _public_records(selection: QuerySet[Agreement]) -> Iterator[_Record]:
    """The agreements of `selection`, in key order, as records of their public fields with their parties (and each
    one's organisation) and purposes: three queries streamed side by side, whatever the number of agreements, and
    no model instance each (building 30,000 of them was most of the time of a 10,000-row snapshot)."""
    selection = selection.prefetch_related(None)
    chosen = selection.values("pk")
    parties = _by_agreement(
        Party.objects.filter(agreement__in=chosen)
        .order_by("agreement_id", "pk")
        .values_list("agreement_id", "pk", "role", "organisation__name", "organisation__ods_code")
        .iterator(chunk_size=SNAPSHOT_BATCH)
    )
    purposes = _by_agreement(
        Agreement.purposes.through.objects.filter(agreement__in=chosen)
        .order_by("agreement_id", "pk")
        .values_list("agreement_id", "purpose__name")
        .iterator(chunk_size=SNAPSHOT_BATCH)
    )
    for pk, *values in selection.order_by("pk").values_list("pk", *PUBLIC_FIELDS).iterator(chunk_size=SNAPSHOT_BATCH):
        yield _Record(
            values,
            [_Party(key, role, _Organisation(name, ods_code)) for key, role, name, ods_code in parties(pk)],
            [_Purpose(name) for (name,) in purposes(pk)],
        )


def _parties(agreement: PublicSource) -> list[Any]:
    """Party instances, or a record's parties: each with a pk, a role and an organisation's name and ODS code."""
    return agreement.public_parties if isinstance(agreement, _Record) else list(agreement.parties.all())


def _purposes(agreement: PublicSource) -> list[Any]:
    return agreement.public_purposes if isinstance(agreement, _Record) else list(agreement.purposes.all())


def public_entry(agreement: PublicSource) -> Entry:
    """The public fields of one agreement, as its entry page shows them. Parties and purposes must be
    prefetched. This is the only place that decides what of an agreement is public: nothing else is copied."""
    parties = sorted(_parties(agreement), key=lambda party: (party.organisation.name.casefold(), party.role, party.pk))
    return {
        "reference": agreement.reference,
        "type": _display(agreement, "kind"),
        "summary": agreement.summary.strip(),
        "purposes": sorted(purpose.name for purpose in _purposes(agreement)),
        "parties": [
            {
                "name": party.organisation.name,
                "ods_code": party.organisation.ods_code,
                "role": _display(party, "role"),
            }
            for party in parties
        ],
        "data_level": _display(agreement, "data_level"),
        "legal_basis": legal_basis_text(agreement),
        "start_date": agreement.start_date.isoformat() if agreement.start_date else "",
        "end_date": agreement.end_date.isoformat() if agreement.end_date else "",
        "review_date": agreement.review_date.isoformat() if agreement.review_date else "",
        "opt_out": opt_out_text(agreement),
    }


def sort_bytes(key: Any) -> bytes:
    """Bytes that sort as the sort key does (a string, an integer, or a tuple of them), for the database to put an
    edition's rows in table order: a byte string compares byte by byte, then the shorter first, in SQLite and
    PostgreSQL alike. UTF-8 keeps the order of code points, as Python compares strings; each string ends with two
    zero bytes and a zero byte inside it is escaped, so that a string sorts before any longer one it begins."""
    if isinstance(key, tuple):
        return b"".join(sort_bytes(part) for part in key)
    if isinstance(key, int) and not isinstance(key, bool):
        return b"\x01" + (key + 2**63).to_bytes(8, "big")
    if isinstance(key, str):
        return b"\x02" + key.encode().replace(b"\x00", b"\x00\x01") + b"\x00\x00"
    raise TypeError(f"A sort key is a string, an integer or a tuple of them, not {type(key).__name__}")


class RegisterKind:
    """One kind of public register. Subclasses set the class attributes and implement agreements() and row()."""

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
    # The column whose cell links to the row's entry page.
    link_column: ClassVar[str]
    # CSS page size of the PDF: a register with many wide columns is laid out in landscape.
    pdf_page_size: ClassVar[str] = "A4"
    # The rest of the wording a new Register starts with; the IG team edits it (Register fields of the same names).
    default_team_name: ClassVar[str] = "Information Governance Team"
    default_contact_sentence: ClassVar[str] = (
        "If you have any questions about this register, please contact the {team} via the below email address:"
    )
    default_privacy_notice_sentence: ClassVar[str] = (
        "For further information on how we use data, please refer to our privacy notice"
    )

    @property
    def default_wording(self) -> dict[str, str]:
        return {
            "introduction": self.default_introduction,
            "table_lead": self.table_lead,
            "team_name": self.default_team_name,
            "contact_sentence": self.default_contact_sentence,
            "privacy_notice_sentence": self.default_privacy_notice_sentence,
        }

    def selection(self, *, on: dt.date) -> QuerySet[Agreement]:
        """The agreements the register shows on the day, in any order."""
        raise NotImplementedError

    def sort_key(self, row: Row) -> Any:
        """Where a row comes in the table."""
        raise NotImplementedError

    def row(self, agreement: PublicSource) -> Row:
        """One table row: a value for each column, all strings."""
        raise NotImplementedError

    def records(self, *, on: dt.date, with_entries: bool = True) -> Iterator[tuple[Any, Row, dict[str, Any] | None]]:
        """The register's rows on the day, each with its sort key and public entry (None when not wanted), in the
        order the database gives: streamed, for an edition's snapshot to store a batch at a time."""
        for agreement in _public_records(self.selection(on=on)):
            # The reference travels with every row, so that the table can link the row to its entry page and
            # "what changed" can match rows across editions, whether or not the register shows it as a column.
            row = {**self.row(agreement), "reference": agreement.reference}
            yield self.sort_key(row), row, public_entry(agreement) if with_entries else None

    def snapshot(self, *, on: dt.date, with_entries: bool = True) -> Snapshot:
        """The register's rows on the day in table order, and each row's public entry (not when only the rows are
        wanted), in memory: a preview, or a comparison with the current edition."""
        made = sorted(self.records(on=on, with_entries=with_entries), key=operator.itemgetter(0))
        rows = [row for _, row, _ in made]
        entries = {row["reference"]: entry for _, row, entry in made if entry is not None}
        return Snapshot(rows=rows, entries=entries)

    def removal_notes(self, *, on: dt.date) -> dict[str, str]:
        """{key: public reason} for entries the publication rules leave out on the day; shown against rows the
        "what changed" section lists as removed. The reasons must be safe to publish."""
        return {}


def _names(agreement: PublicSource, role: str) -> list[Any]:
    # Parties are read for all rows at once (_public_records); filtering in Python keeps it to one query.
    return [party for party in _parties(agreement) if party.role == role]


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
    link_column = "reference"
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

    def selection(self, *, on: dt.date) -> QuerySet[Agreement]:
        # THE selection of this register lives in agreements.selectors; it also drops sub-licences that break the
        # chain or partner-assurance rules, which are never judged again here.
        return agreement_selectors.sub_licences_publishable(on=on)

    def sort_key(self, row: Row) -> Any:
        # SL/25/2 before SL/25/10.
        return Agreement.reference_sort_key(row["reference"])

    def row(self, agreement: PublicSource) -> Row:
        partners = sorted(
            (party.organisation for party in _names(agreement, Party.Role.SUB_LICENSEE)), key=lambda o: o.name
        )
        return {
            "reference": agreement.reference,
            "organisation": "; ".join(organisation.name for organisation in partners),
            "data_level": _display(agreement, "data_level"),
            "ods_code": "; ".join(organisation.ods_code for organisation in partners),
        }

    def removal_notes(self, *, on: dt.date) -> dict[str, str]:
        return {dropped.reference: dropped.public_reason for dropped in agreement_selectors.sub_licences_dropped(on=on)}


def own_organisation_ods_code() -> str:
    """The ODS code of the organisation whose registers these are (PORTAL_ORGANISATION_ODS_CODE)."""
    return (getattr(settings, "PORTAL_ORGANISATION_ODS_CODE", "") or "").strip().upper()


class InformationSharingRegister(RegisterKind):
    """ "Organisations we share data with" (shared/seeds/001_*): information sharing agreements, data sharing
    agreements and statutory returns, with the law that allows each and whether the national data opt-out
    applies (it does not, for statutory returns: shared/seeds/002_*)."""

    slug = "information-sharing"
    title = "Information Sharing Register"
    document_title = "Organisations we share data with"
    file_stem = "information-sharing-register"
    cadence = Cadence.ANNUALLY
    columns = (
        Column("organisation", "Organisation"),
        Column("purpose", "What we share"),
        Column("data_level", "Level of data"),
        Column("legal_basis", "Legal basis"),
        Column("type", "Type of agreement"),
        Column("opt_out", "Does the national data opt-out apply?"),
        Column("review_date", "Review date"),
    )
    key_column = "reference"
    link_column = "organisation"
    pdf_page_size = "A4 landscape"
    table_lead = (
        "The organisations we share data with, and the agreements that allow it, are set out in the Information "
        "Sharing Register table below. The register is updated annually."
    )
    default_introduction = (
        "We share information with other organisations when it helps us to plan, pay for and provide health and "
        "care services for you, and when the law says we must. Each time we share, an agreement sets out what is "
        "shared, why, and how it is kept safe.\n\n"
        "This register lists the organisations we share data with. It covers our information sharing agreements, "
        "our data sharing agreements, and the statutory returns the law requires us to send to government and to "
        "NHS England. For each one it shows what we share and why, how identifiable the data is, the law that "
        "allows it, and whether the national data opt-out applies. We update this register every year.\n\n"
        "The national data opt-out lets you choose whether your confidential patient information is used for "
        "research and planning. It does not apply where the law requires us to share data, such as a statutory "
        "return; the register says so where this is the case. You can find out more, or set your choice, at "
        "www.nhs.uk/your-nhs-data-matters."
    )

    def selection(self, *, on: dt.date) -> QuerySet[Agreement]:
        # THE selection of this register lives in agreements.selectors.
        return agreement_selectors.information_sharing_publishable(on=on)

    def sort_key(self, row: Row) -> Any:
        # By the organisation shared with, as a reader looks a partner up; then by reference.
        return (row["organisation"].casefold(), row["reference"])

    @staticmethod
    def _organisations(agreement: PublicSource) -> list[str]:
        # "Organisation" is who we share with: every party but ourselves. An agreement we are not a party to
        # (a partner's statutory return recorded here) names all its parties.
        parties = _parties(agreement)
        own = own_organisation_ods_code()
        others = [party for party in parties if party.organisation.ods_code != own] or parties
        return sorted({party.organisation.name for party in others}, key=str.casefold)

    def row(self, agreement: PublicSource) -> Row:
        summary = agreement.summary.strip()
        purposes = sorted(purpose.name for purpose in _purposes(agreement))
        return {
            "organisation": "; ".join(self._organisations(agreement)),
            "purpose": summary or "; ".join(purposes) or agreement.title,
            "data_level": _display(agreement, "data_level"),
            "legal_basis": legal_basis_text(agreement),
            "type": _display(agreement, "kind"),
            "opt_out": opt_out_text(agreement),
            "review_date": format_date(agreement.review_date) or "Not set",
        }


REGISTER_KINDS: dict[str, RegisterKind] = {
    kind.slug: kind for kind in (SubLicenceRegister(), InformationSharingRegister())
}


def register_kind(slug: str) -> RegisterKind:
    try:
        return REGISTER_KINDS[slug]
    except KeyError:
        raise LookupError(
            f"There is no register called {slug!r}. Known registers: {', '.join(REGISTER_KINDS)}"
        ) from None


def registers_listing(agreement: Agreement) -> list[RegisterKind]:
    """The registers whose editions would list the agreement, by its kind."""
    if agreement.kind == Agreement.Kind.SUB_LICENCE:
        return [REGISTER_KINDS[SubLicenceRegister.slug]]
    if agreement.kind in agreement_selectors.INFORMATION_SHARING_KINDS:
        return [REGISTER_KINDS[InformationSharingRegister.slug]]
    return []


@dataclass(frozen=True)
class EditionEffect:
    """What a proposed version of an agreement would do to the next edition of one register: `sentence` for the
    IG team, and the table's columns (or public entry fields) it changes as (label, live, proposed)."""

    register: RegisterKind
    sentence: str
    changes: list[tuple[str, str, str]]


def edition_effects(*, live: Agreement, proposed: Agreement, on: dt.date) -> list[EditionEffect]:
    """Compare the live agreement and a proposed version of it (both loaded with their relations) as the next
    edition published on the day would show them."""
    effects = []
    reference = live.reference
    live_blockers = agreement_selectors.publication_blockers(agreement=live, on=on)
    proposed_blockers = agreement_selectors.publication_blockers(agreement=proposed, on=on)
    for register in registers_listing(live):
        title = register.title
        changes: list[tuple[str, str, str]] = []
        if not live_blockers and proposed_blockers:
            sentence = f"This amendment would remove {reference} from the {title}: {'; '.join(proposed_blockers)}"
        elif live_blockers and not proposed_blockers:
            sentence = f"This amendment would add {reference} to the {title}"
        elif live_blockers:
            sentence = (
                f"{reference} is not in the {title} before or after this amendment: {'; '.join(proposed_blockers)}"
            )
        else:
            live_row, proposed_row = register.row(live), register.row(proposed)
            changes = [
                (column.label, live_row[column.key], proposed_row[column.key])
                for column in register.columns
                if live_row.get(column.key) != proposed_row.get(column.key)
            ]
            live_entry, proposed_entry = public_entry(live), public_entry(proposed)
            changes += [
                (f"Entry page: {name.replace('_', ' ')}", str(live_entry[name]), str(proposed_entry[name]))
                for name in live_entry
                if live_entry[name] != proposed_entry[name] and name not in {c.key for c in register.columns}
            ]
            sentence = (
                f"This amendment would change {reference} in the {title}"
                if changes
                else f"This amendment would not change what the {title} shows for {reference}"
            )
        effects.append(EditionEffect(register=register, sentence=sentence, changes=changes))
    return effects
