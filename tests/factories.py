"""factory_boy factories. They write rows directly (fast); services are tested through their own calls."""

from __future__ import annotations

import datetime as dt
import hashlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from agreements import roles
from agreements.models import Agreement, DataLevel, Dataset, Document, Linkage, Organisation, Party, Purpose
from agreements.rules import dspt_year

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.nhs.uk")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            roles.roles_sync()
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    ods_code = factory.Sequence(lambda n: f"T{n:04d}")
    kind = Organisation.Kind.LOCAL_AUTHORITY
    dspt_status = Organisation.DsptStatus.MET
    # The current assessment year on the (possibly time-travelled) day the row is made: assured by default.
    dspt_assessment_year = factory.LazyFunction(lambda: dspt_year(timezone.localdate()))
    ico_registration_number = factory.Sequence(lambda n: f"Z{n:07d}")


class PurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purpose
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Purpose {n}")


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"Dataset {n}")
    provider = factory.SubFactory(OrganisationFactory)
    category = Dataset.Category.HEALTH_COMMISSIONING


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement
        # Post-generation hooks (parties) write their own rows; the agreement needs no second save.
        skip_postgeneration_save = True

    kind = Agreement.Kind.DSA
    reference = factory.Sequence(lambda n: f"DSA-TEST-{n}")
    title = factory.Sequence(lambda n: f"Agreement {n}")
    summary = "Shares data to plan services."
    status = Agreement.Status.ACTIVE
    start_date = dt.date(2025, 4, 1)
    end_date = dt.date(2028, 3, 31)
    data_level = DataLevel.PSEUDONYMISED
    article_6_basis = Agreement.Article6.PUBLIC_TASK
    article_9_condition = Agreement.Article9.HEALTH_SOCIAL_CARE
    common_law_basis = Agreement.CommonLaw.NOT_CONFIDENTIAL
    opt_out = Agreement.OptOut.APPLIED


class ParentAgreementFactory(AgreementFactory):
    """An NHS England agreement that permits sub-licensing, open-ended, so a default sub-licence keeps to it."""

    reference = factory.Sequence(lambda n: f"DARS-NIC-{n:06d}-TEST")
    title = "NHS England data sharing agreement"
    start_date = dt.date(2020, 4, 1)
    end_date = None
    permits_sub_licensing = True


class SubLicenceFactory(AgreementFactory):
    """A sub-licence with a reference like the system's. Use services.sub_licence_create to test allocation.
    By default it keeps to the sub-licence chain rules (see agreements.rules) under its own parent."""

    kind = Agreement.Kind.SUB_LICENCE
    reference = factory.Sequence(lambda n: f"SL/25/{n + 1}")
    parent = factory.SubFactory(ParentAgreementFactory)

    @factory.post_generation
    def sub_licensee(self, create: bool, extracted: Organisation | None, **kwargs: object) -> None:
        if create:
            Party.objects.create(
                agreement=self, organisation=extracted or OrganisationFactory(), role=Party.Role.SUB_LICENSEE
            )


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    agreement = factory.SubFactory(AgreementFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Party.Role.RECIPIENT


class LinkageFactory(factory.django.DjangoModelFactory):
    """A draft linkage of children's social care data; add agreements with tests.agreements.test_rules helpers."""

    class Meta:
        model = Linkage

    title = factory.Sequence(lambda n: f"Linkage {n}")
    icb = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.ICB)
    provider = factory.SubFactory(OrganisationFactory)
    processor = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.DATA_PROCESSOR)
    category = Dataset.Category.CHILDRENS_SOCIAL_CARE
    justification = "To understand the health of children receiving early help."
    status = Linkage.Status.DRAFT


# The smallest genuine PDF: one blank A4 page, with its cross-reference table.
TINY_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)


class DocumentFactory(factory.django.DjangoModelFactory):
    """A signed copy (a real, tiny PDF) attached to an agreement."""

    class Meta:
        model = Document

    agreement = factory.SubFactory(AgreementFactory)
    kind = Document.Kind.SIGNED_COPY
    title = "Signed copy"
    file = factory.django.FileField(data=TINY_PDF, filename="signed.pdf")
    filename = "signed.pdf"
    size = len(TINY_PDF)
    sha256 = factory.LazyFunction(lambda: hashlib.sha256(TINY_PDF).hexdigest())


def signed(agreement: Agreement) -> Agreement:
    """The agreement with its signed copy uploaded, as its readiness checklist requires before it is submitted or
    approved (and before an amendment of it is)."""
    DocumentFactory(agreement=agreement)
    return agreement
