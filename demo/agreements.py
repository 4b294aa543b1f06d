"""The demo register: exactly the published Sub Licence Release Register (shared/seeds/000_*), SL/25/1 to
Leicester City Council under the LLR ICB, plus a few realistic extras so that every page has something to show.

Everything goes through the services, so the demo has the same history a real register would. Running it again
changes nothing: each record is looked up by its natural key (ODS code, reference or name) first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from agreements import roles, rules, services
from agreements.models import Agreement, DataLevel, Dataset, Linkage, Organisation, Party, PermittedPurpose, Purpose
from demo import documents
from demo.documents import in_force_until

DEMO_PASSWORD = "register-demo"  # noqa: S105 - documented in the README; accounts exist only with DEBUG on.
REASON = "Demo data"

ORGANISATIONS = [
    {
        "name": "NHS Leicester, Leicestershire and Rutland ICB",
        "ods_code": "QK1",
        "kind": Organisation.Kind.ICB,
        "dspt_status": Organisation.DsptStatus.MET,
        "ico_registration_number": "ZB310554",
        "website": "https://leicesterleicestershireandrutland.icb.nhs.uk/",
    },
    {
        "name": "Leicester City Council",
        "ods_code": "509",
        "kind": Organisation.Kind.LOCAL_AUTHORITY,
        "dspt_status": Organisation.DsptStatus.MET,
        "ico_registration_number": "Z7141059",
        "website": "https://www.leicester.gov.uk/",
    },
    {
        "name": "NHS England",
        "ods_code": "X24",
        "kind": Organisation.Kind.OTHER,
        "dspt_status": Organisation.DsptStatus.EXCEEDED,
        "website": "https://www.england.nhs.uk/",
    },
    {
        "name": "University Hospitals of Leicester NHS Trust",
        "ods_code": "RWE",
        "kind": Organisation.Kind.NHS_TRUST,
        "dspt_status": Organisation.DsptStatus.MET,
        "website": "https://www.leicestershospitals.nhs.uk/",
    },
    {
        "name": "Charnwood Health Analytics Ltd",
        "ods_code": "8JX41",
        "kind": Organisation.Kind.DATA_PROCESSOR,
        "dspt_status": Organisation.DsptStatus.MET,
        "ico_registration_number": "ZA512388",
    },
]

DATASETS = [
    (
        "Secondary Uses Service (SUS+)",
        "X24",
        Dataset.Category.HEALTH_COMMISSIONING,
        "Hospital activity used for commissioning: admissions, outpatient appointments and A&E attendances.",
    ),
    (
        "GP data for pandemic planning and research",
        "X24",
        Dataset.Category.HEALTH_COMMISSIONING,
        "Coded GP records, pseudonymised at source.",
    ),
    (
        "Adult social care client level data",
        "509",
        Dataset.Category.ADULT_SOCIAL_CARE,
        "The statutory quarterly return of adult social care services received.",
    ),
    (
        "Children's social care and early help",
        "509",
        Dataset.Category.CHILDRENS_SOCIAL_CARE,
        "Referrals, assessments and early help episodes.",
    ),
]

PURPOSES = [
    "Commissioning health and care services",
    "Population health management",
    "Planning and improving local services",
    "Monitoring adult social care services",
    "Supporting people leaving hospital (direct care)",
]

# Adult social care client level data (shared/seeds/002_*): a legal requirement, so neither the UK GDPR right to
# object nor the national data opt-out applies.
STATUTORY_RETURN_REFERENCE = "SR-LCC-ASC-CLD"
ISA_REFERENCE = "ISA-LLR-2025-003"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    description: str


ACCOUNTS = [
    DemoAccount("ig-officer", roles.IG_OFFICER, "IG officer: records and edits partners and agreements"),
    DemoAccount("ig-approver", roles.IG_APPROVER, "IG approver: approves agreements, publishes registers"),
    DemoAccount("ig-lead", roles.IG_LEAD, "IG lead: an approver who also manages users and reads the audit log"),
    DemoAccount("auditor", roles.AUDITOR, "Auditor: reads everything, changes nothing"),
    DemoAccount("lcc-partner", "", "Partner contact for Leicester City Council (ODS 509)"),
    DemoAccount("blaby-partner", "", "Partner contact for Blaby District Council: sees its data requests"),
    DemoAccount("admin", "", "Superuser: the Django admin at /admin/"),
]


def _organisation(ods_code: str) -> Organisation:
    return Organisation.objects.get(ods_code=ods_code)


def _users() -> dict[str, User]:
    """The demo accounts, created once; a second run leaves their passwords as they are."""
    User = get_user_model()
    users = {}
    for account in ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "email": f"{account.username}@example.nhs.uk",
                "is_staff": account.username == "admin",
                "is_superuser": account.username == "admin",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if account.role:
            user.groups.add(Group.objects.get(name=account.role))
        users[account.username] = user
    return users


def review_in(days: int, *, ends: dt.date | None = None) -> dt.date:
    """A review date `days` from today (before the agreement ends), so that a fresh demo opens with reviews
    coming up rather than every one overdue, whatever the date."""
    today = timezone.localdate()
    due = today + dt.timedelta(days=days)
    # Before the agreement ends while it can be; once the demo's end dates have passed, still in the future.
    if ends and today < ends - dt.timedelta(days=1) < due:
        return ends - dt.timedelta(days=1)
    return due


def _agreement(reference: str) -> Agreement | None:
    return Agreement.objects.filter(reference=reference).first()


def _permitted_purposes() -> None:
    """NHS England's permitted purposes come from a data migration; a flushed database (`manage.py flush`, or a
    transactional test) has lost them, so they are loaded again, from the migration itself."""
    if not PermittedPurpose.objects.exists():
        import_module("agreements.migrations.0003_permitted_purposes").load(apps, None)


@transaction.atomic
def load_demo(*, with_accounts: bool) -> list[DemoAccount]:
    roles.roles_sync()
    _permitted_purposes()
    users = _users() if with_accounts else {}
    officer = users.get("ig-officer")
    approver = users.get("ig-approver")

    for fields in ORGANISATIONS:
        if not Organisation.objects.filter(ods_code=fields["ods_code"]).exists():
            # Assured in the DSPT year the demo is loaded in, so its sub-licence can be approved and published.
            fields = {**fields, "dspt_assessment_year": rules.dspt_year(timezone.localdate())}
            services.organisation_create(actor=officer, fields=fields, reason=REASON)
    for name, provider, category, description in DATASETS:
        Dataset.objects.get_or_create(
            name=name,
            provider=_organisation(provider),
            defaults={"category": category, "description": description},
        )
    for name in PURPOSES:
        Purpose.objects.get_or_create(name=name)

    icb, lcc, nhse = _organisation("QK1"), _organisation("509"), _organisation("X24")
    uhl, processor = _organisation("RWE"), _organisation("8JX41")
    commissioning = Purpose.objects.get(name="Commissioning health and care services")
    phm = Purpose.objects.get(name="Population health management")
    sus = Dataset.objects.get(name="Secondary Uses Service (SUS+)")
    gp = Dataset.objects.get(name="GP data for pandemic planning and research")
    ascl = Dataset.objects.get(name="Adult social care client level data")

    def approved(agreement: Agreement) -> None:
        documents.approve(officer=officer, approver=approver, agreement=agreement)

    parent_reference = "DARS-NIC-655409-Q1L8R"
    if not (parent := _agreement(parent_reference)):
        parent = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.DSA,
                "reference": parent_reference,
                "title": "NHS England data sharing agreement for commissioning",
                "summary": "NHS England shares pseudonymised data with the ICB to commission health and care "
                "services for Leicester, Leicestershire and Rutland.",
                "start_date": dt.date(2024, 4, 1),
                "end_date": in_force_until(dt.date(2028, 3, 31)),
                "review_date": review_in(300, ends=in_force_until(dt.date(2028, 3, 31))),
                "data_level": DataLevel.PSEUDONYMISED,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "statutory_gateway": "Health and Social Care Act 2012, section 261(2)(b)(ii)",
                "opt_out": Agreement.OptOut.APPLIED,
                "permits_sub_licensing": True,
                "dpia_reference": "DPIA-LLR-2024-001",
            },
            parties=[(nhse, Party.Role.PROVIDER), (icb, Party.Role.RECIPIENT)],
            datasets=[sus, gp],
            purposes=[commissioning],
            reason=REASON,
        )
        approved(parent)

    if not Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE, parties__organisation=lcc).exists():
        sub_licence = services.sub_licence_create(
            actor=officer,
            sub_licensee=lcc,
            licensor=icb,
            agreed_on=dt.date(2025, 10, 22),
            fields={
                "title": "Sub-licence of commissioning data to Leicester City Council",
                "summary": "Leicester City Council uses pseudonymised health data to plan public health and "
                "social care services with the ICB.",
                "parent": parent,
                "start_date": dt.date(2025, 10, 22),
                "end_date": in_force_until(dt.date(2028, 3, 31)),
                "review_date": review_in(180, ends=in_force_until(dt.date(2028, 3, 31))),
                "data_level": DataLevel.PSEUDONYMISED,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "opt_out": Agreement.OptOut.APPLIED,
                "dpia_reference": "DPIA-LLR-2025-014",
            },
            datasets=[sus],
            purposes=[phm],
            reason=REASON,
        )
        approved(sub_licence)

    today = timezone.localdate()
    if not _agreement("DPA-LLR-2025-004"):
        dpa = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.DPA,
                "reference": "DPA-LLR-2025-004",
                "title": "Data processing agreement for the linked population health dataset",
                "summary": "Charnwood Health Analytics processes pseudonymised data for the ICB, on its "
                "written instructions only.",
                "start_date": dt.date(2025, 4, 1),
                "end_date": in_force_until(dt.date(2027, 3, 31)),
                "review_date": review_in(60, ends=in_force_until(dt.date(2027, 3, 31))),
                "data_level": DataLevel.PSEUDONYMISED,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "opt_out": Agreement.OptOut.APPLIED,
                "is_public": False,
            },
            parties=[(icb, Party.Role.CONTROLLER), (processor, Party.Role.PROCESSOR)],
            datasets=[sus, ascl],
            purposes=[phm],
            reason=REASON,
        )
        approved(dpa)

    if not _agreement("PC-LLR-2024-011"):
        contract = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.PROCESSOR_CONTRACT,
                "reference": "PC-LLR-2024-011",
                "title": "Analytics platform contract with Charnwood Health Analytics",
                "summary": "The commercial contract for the ICB's analytics platform.",
                "start_date": dt.date(2024, 7, 1),
                # Ends soon after the first load, so the dashboard has something to warn about.
                "end_date": today + dt.timedelta(days=75),
                "data_level": DataLevel.PSEUDONYMISED,
                "article_6_basis": Agreement.Article6.CONTRACT,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "opt_out": Agreement.OptOut.NOT_APPLICABLE,
                "is_public": False,
            },
            parties=[(icb, Party.Role.CONTROLLER), (processor, Party.Role.PROCESSOR)],
            reason=REASON,
        )
        approved(contract)

    if not _agreement("DSA-LLR-2026-002"):
        draft = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.DSA,
                "reference": "DSA-LLR-2026-002",
                "title": "Linked hospital and GP data for population health management",
                "summary": "University Hospitals of Leicester and the ICB share pseudonymised data to find "
                "patients who would benefit from earlier support.",
                "start_date": today,
                "end_date": today + dt.timedelta(days=3 * 365),
                "review_date": today + dt.timedelta(days=365),
                "data_level": DataLevel.PSEUDONYMISED,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "opt_out": Agreement.OptOut.APPLIED,
            },
            parties=[(icb, Party.Role.JOINT_CONTROLLER), (uhl, Party.Role.JOINT_CONTROLLER)],
            datasets=[sus],
            purposes=[phm],
            reason=REASON,
        )
        documents.submit(officer=officer, agreement=draft)

    _linkage(officer=officer, approved=approved, icb=icb, lcc=lcc, processor=processor)
    _information_sharing(officer=officer, approved=approved, icb=icb, lcc=lcc, nhse=nhse, uhl=uhl, ascl=ascl)

    if with_accounts:
        partner = users["lcc-partner"]
        if not partner.has_perm("agreements.act_for_organisation", lcc):
            services.partner_contact_grant(actor=None, user=partner, organisation=lcc, reason=REASON)
    return ACCOUNTS if with_accounts else []


LINKAGE_TITLE = "Children's social care and early help linked to commissioning data"


def _linkage(
    *,
    officer: User | None,
    approved: Callable[[Agreement], None],
    icb: Organisation,
    lcc: Organisation,
    processor: Organisation,
) -> None:
    """A linkage that is not yet permitted: the DSA (ICB and council) and the processor's contract are in place,
    but the council's data processing agreement with the processor is not, so its checklist shows one cross."""
    if not _agreement("DSA-LLR-2025-009"):
        dsa = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.DSA,
                "reference": "DSA-LLR-2025-009",
                "title": "Children's social care data for population health management",
                "summary": "Leicester City Council shares children's social care and early help data with the ICB "
                "to understand the health of the children and families it supports.",
                "start_date": dt.date(2025, 9, 1),
                "end_date": in_force_until(dt.date(2028, 8, 31)),
                "review_date": review_in(240, ends=in_force_until(dt.date(2028, 8, 31))),
                "data_level": DataLevel.PSEUDONYMISED,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "opt_out": Agreement.OptOut.APPLIED,
                "is_public": False,
            },
            parties=[(lcc, Party.Role.PROVIDER), (icb, Party.Role.RECIPIENT)],
            datasets=[Dataset.objects.get(name="Children's social care and early help", provider=lcc)],
            reason=REASON,
        )
    else:
        dsa = None
    # Recorded before the DSA is approved: children's social care data is linked to health data only under a
    # recorded linkage (the DSA's readiness checklist asks for it).
    if not Linkage.objects.filter(title=LINKAGE_TITLE).exists():
        services.linkage_create(
            actor=officer,
            fields={
                "title": LINKAGE_TITLE,
                "icb": icb,
                "provider": lcc,
                "processor": processor,
                "category": Dataset.Category.CHILDRENS_SOCIAL_CARE,
                "justification": "To see how children and families receiving early help use health services, and "
                "to find families who may be eligible for Families Together.",
            },
            datasets=Dataset.objects.filter(name="Children's social care and early help", provider=lcc),
            purposes=PermittedPurpose.objects.filter(category=Dataset.Category.CHILDRENS_SOCIAL_CARE, position__lte=3),
            reason=REASON,
        )
    if dsa is not None:
        approved(dsa)


def _information_sharing(
    *,
    officer: User | None,
    approved: Callable[[Agreement], None],
    icb: Organisation,
    lcc: Organisation,
    nhse: Organisation,
    uhl: Organisation,
    ascl: Dataset,
) -> None:
    """Rows for the Information Sharing Register besides NHS England's DSA: the council's statutory return of
    adult social care client level data, and a public information sharing agreement for hospital discharge."""
    if not _agreement(STATUTORY_RETURN_REFERENCE):
        statutory_return = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.STATUTORY_RETURN,
                "reference": STATUTORY_RETURN_REFERENCE,
                "title": "Adult social care client level data return to NHS England",
                "summary": "Leicester City Council sends NHS England a record of the adult social care services "
                "each person receives, every quarter, so that care can be planned and improved nationally.",
                "start_date": dt.date(2023, 4, 1),
                "review_date": review_in(120),
                "data_level": DataLevel.IDENTIFIABLE,
                "article_6_basis": Agreement.Article6.LEGAL_OBLIGATION,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.LEGAL_REQUIREMENT,
                "statutory_gateway": "Health and Social Care Act 2012, section 259(1)(a), under the Secretary of "
                "State's direction to NHS England to collect adult social care client level data",
                "opt_out": Agreement.OptOut.NOT_APPLIED,
                "opt_out_reason": "Local authorities are required by law to share this data with NHS England, so "
                "neither the UK GDPR right to object nor the national data opt-out applies.",
            },
            parties=[(lcc, Party.Role.PROVIDER), (nhse, Party.Role.RECIPIENT)],
            datasets=[ascl],
            purposes=[Purpose.objects.get(name="Monitoring adult social care services")],
            reason=REASON,
        )
        approved(statutory_return)
    if not _agreement(ISA_REFERENCE):
        isa = services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.ISA,
                "reference": ISA_REFERENCE,
                "title": "Information sharing agreement for leaving hospital with care and support",
                "summary": "The hospital, the council and the ICB share the details needed to arrange care and "
                "support at home for people leaving hospital, so that nobody stays in hospital longer than they "
                "need to.",
                "start_date": dt.date(2025, 6, 1),
                "end_date": in_force_until(dt.date(2028, 5, 31)),
                "review_date": review_in(330, ends=in_force_until(dt.date(2028, 5, 31))),
                "data_level": DataLevel.IDENTIFIABLE,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "article_9_condition": Agreement.Article9.HEALTH_SOCIAL_CARE,
                "common_law_basis": Agreement.CommonLaw.IMPLIED_CONSENT,
                "statutory_gateway": "Care Act 2014, section 6 (co-operation between the council and NHS bodies)",
                "opt_out": Agreement.OptOut.NOT_APPLICABLE,
                "opt_out_reason": "It applies only to research and planning, and this sharing is for people's "
                "own care.",
                "dpia_reference": "DPIA-LLR-2025-021",
            },
            parties=[
                (icb, Party.Role.JOINT_CONTROLLER),
                (lcc, Party.Role.JOINT_CONTROLLER),
                (uhl, Party.Role.JOINT_CONTROLLER),
            ],
            purposes=[Purpose.objects.get(name="Supporting people leaving hospital (direct care)")],
            reason=REASON,
        )
        approved(isa)
