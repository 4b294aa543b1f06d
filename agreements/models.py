"""The register's domain: organisations, agreements, the parties to them, datasets, documents and history.

Models hold field-level validation only. Every write goes through agreements.services, which also writes the
audit.AuditEvent saying who changed what, when and why.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

ODS_CODE_MESSAGE = "Enter an ODS code of 3 to 10 letters and numbers, like 509, QK1 or C82001"
ODS_CODE_RE = re.compile(r"^[A-Z0-9]{3,10}$")
ICO_NUMBER_MESSAGE = "Enter an ICO registration number like Z1234567 or ZA123456"
REFERENCE_MESSAGE = "Enter a reference of up to 50 letters, numbers, slashes, hyphens, dots or underscores"
SUB_LICENCE_PREFIX = "SL"
SUB_LICENCE_REFERENCE_RE = re.compile(r"^SL/(\d{2})/(\d+)$")


def normalise_ods_code(value: str) -> str:
    """ODS codes are trimmed and upper-cased before they are checked; nothing else is changed."""
    return (value or "").strip().upper()


def validate_ods_code(value: str) -> None:
    # Longer values are the max_length check's, which gives the same message; this avoids saying it twice.
    if len(value or "") <= 10 and not ODS_CODE_RE.fullmatch(value or ""):
        raise ValidationError(ODS_CODE_MESSAGE, code="invalid_ods_code")


validate_ico_number = RegexValidator(r"^(Z\d{7}|Z[A-Z]\d{6})$", ICO_NUMBER_MESSAGE, code="invalid_ico_number")
validate_reference = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,49}$", REFERENCE_MESSAGE)
validate_dspt_year = RegexValidator(
    r"^20\d\d-\d\d$", "Enter the assessment year like 2024-25", code="invalid_dspt_year"
)


class DataLevel(models.TextChoices):
    """Most identifiable first: the order is what the sub-licence chain rules compare."""

    IDENTIFIABLE = "identifiable", "Identifiable"
    PSEUDONYMISED = "pseudonymised", "Pseudonymised"
    ANONYMISED = "anonymised", "Anonymised"
    AGGREGATE = "aggregate", "Aggregate"

    @classmethod
    def rank(cls, value: str) -> int:
        """0 for the most identifiable; a larger number is less identifiable."""
        return list(cls.values).index(value)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        ICB = "icb", "Integrated care board"
        NHS_TRUST = "nhs_trust", "NHS trust"
        GP_PRACTICE = "gp_practice", "GP practice"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        PUBLIC_HEALTH = "public_health", "Public health body"
        DATA_PROCESSOR = "data_processor", "Data processor"
        COMMERCIAL = "commercial", "Commercial company"
        VOLUNTARY = "voluntary", "Voluntary sector"
        OTHER = "other", "Other"

    class DsptStatus(models.TextChoices):
        EXCEEDED = "exceeded", "Standards Exceeded"
        MET = "met", "Standards Met"
        APPROACHING = "approaching", "Approaching Standards"
        NOT_MET = "not_met", "Not Met"
        NOT_PUBLISHED = "not_published", "Not published"

    name = models.CharField(max_length=200)
    ods_code = models.CharField(
        "ODS code",
        max_length=10,
        unique=True,
        validators=[validate_ods_code],
        error_messages={
            "unique": "An organisation with this ODS code already exists",
            "max_length": ODS_CODE_MESSAGE,
        },
    )
    kind = models.CharField("Type of organisation", max_length=20, choices=Kind.choices)
    ico_registration_number = models.CharField(
        "ICO registration number", max_length=8, blank=True, validators=[validate_ico_number]
    )
    ico_registration_expires = models.DateField("ICO registration expires", null=True, blank=True)
    dspt_status = models.CharField(
        "DSPT status",
        max_length=20,
        choices=DsptStatus.choices,
        default=DsptStatus.NOT_PUBLISHED,
    )
    dspt_assessment_year = models.CharField(
        "DSPT assessment year", max_length=7, blank=True, validators=[validate_dspt_year]
    )
    website = models.URLField(blank=True)
    # A form's one-time key: a double-clicked submit finds the record the first click made.
    creation_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    audit_events = GenericRelation(
        "audit.AuditEvent",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="organisation",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("act_for_organisation", "Act as partner contact for the organisation")]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="organisation_unique_name_ci",
                violation_error_message="An organisation with this name already exists",
            )
        ]

    def __str__(self) -> str:
        return self.label(self.name, self.ods_code)

    @staticmethod
    def label(name: str, ods_code: str) -> str:
        """How an organisation is named in lists and choices: "Leeds City Council (X12)"."""
        return f"{name} ({ods_code})"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # Normalise before the field validators run, so " qk1 " is accepted as QK1.
        self.ods_code = normalise_ods_code(self.ods_code)
        self.ico_registration_number = (self.ico_registration_number or "").strip().upper()
        super().clean_fields(exclude=exclude)


class Purpose(models.Model):
    """A plain-English purpose for which data is shared, e.g. "Commissioning health and care services"."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    class Category(models.TextChoices):
        HEALTH_COMMISSIONING = "health_commissioning", "Health commissioning"
        ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care client level data"
        CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care and early help"
        EDUCATION = "education", "Education"
        HOUSING = "housing", "Housing"
        CHILDRENS_YOUTH_OFFER = "childrens_youth_offer", "Children's youth offer"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="datasets_provided", null=True, blank=True
    )
    category = models.CharField(max_length=30, choices=Category.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "provider"],
                name="dataset_unique_name_per_provider",
                violation_error_message="This provider already has a dataset with this name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Agreement(models.Model):
    class Kind(models.TextChoices):
        DSA = "dsa", "Data sharing agreement"
        DPA = "dpa", "Data processing agreement"
        ISA = "isa", "Information sharing agreement"
        PROCESSOR_CONTRACT = "processor_contract", "Processor contract"
        SUB_LICENCE = "sub_licence", "Sub-licence"
        STATUTORY_RETURN = "statutory_return", "Statutory return"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"
        SUPERSEDED = "superseded", "Superseded"

    class Article6(models.TextChoices):
        CONSENT = "6_1_a", "6(1)(a) consent"
        CONTRACT = "6_1_b", "6(1)(b) contract"
        LEGAL_OBLIGATION = "6_1_c", "6(1)(c) legal obligation"
        VITAL_INTERESTS = "6_1_d", "6(1)(d) vital interests"
        PUBLIC_TASK = "6_1_e", "6(1)(e) public task"
        LEGITIMATE_INTERESTS = "6_1_f", "6(1)(f) legitimate interests"

    class Article9(models.TextChoices):
        NONE = "", "Not applicable (no special category data)"
        EXPLICIT_CONSENT = "9_2_a", "9(2)(a) explicit consent"
        EMPLOYMENT_SOCIAL = "9_2_b", "9(2)(b) employment, social security and social protection"
        VITAL_INTERESTS = "9_2_c", "9(2)(c) vital interests"
        SUBSTANTIAL_PUBLIC_INTEREST = "9_2_g", "9(2)(g) substantial public interest"
        HEALTH_SOCIAL_CARE = "9_2_h", "9(2)(h) health or social care"
        PUBLIC_HEALTH = "9_2_i", "9(2)(i) public health"
        ARCHIVING_RESEARCH = "9_2_j", "9(2)(j) archiving, research and statistics"

    class CommonLaw(models.TextChoices):
        NOT_CONFIDENTIAL = "not_confidential", "Not confidential (anonymised or aggregate)"
        IMPLIED_CONSENT = "implied_consent", "Implied consent (direct care)"
        EXPLICIT_CONSENT = "explicit_consent", "Explicit consent"
        SECTION_251 = "section_251", "Section 251 support"
        LEGAL_REQUIREMENT = "legal_requirement", "Legal requirement or statutory gateway"
        OVERRIDING_PUBLIC_INTEREST = "public_interest", "Overriding public interest"

    class OptOut(models.TextChoices):
        APPLIED = "applied", "Applied"
        NOT_APPLIED = "not_applied", "Not applied"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    kind = models.CharField("Type of agreement", max_length=20, choices=Kind.choices)
    reference = models.CharField(
        max_length=50,
        unique=True,
        validators=[validate_reference],
        error_messages={"unique": "An agreement with this reference already exists"},
    )
    title = models.CharField(max_length=200)
    summary = models.TextField("Public summary", blank=True, help_text="Plain English. Shown on the public registers.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    data_level = models.CharField("Level of data shared", max_length=20, choices=DataLevel.choices)
    article_6_basis = models.CharField("UK GDPR Article 6 basis", max_length=10, choices=Article6.choices)
    article_9_condition = models.CharField(
        "UK GDPR Article 9 condition", max_length=10, choices=Article9.choices, blank=True
    )
    common_law_basis = models.CharField(
        "Common law duty of confidentiality basis", max_length=30, choices=CommonLaw.choices
    )
    statutory_gateway = models.CharField(max_length=500, blank=True)
    opt_out = models.CharField("National data opt-out", max_length=20, choices=OptOut.choices, default=OptOut.APPLIED)
    opt_out_reason = models.TextField("Why the national data opt-out is not applied", blank=True)
    purposes = models.ManyToManyField(Purpose, blank=True, related_name="agreements")
    datasets = models.ManyToManyField(Dataset, blank=True, related_name="agreements")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="For a sub-licence, the NHS England agreement it re-shares data under (DARS-NIC-…).",
    )
    permits_sub_licensing = models.BooleanField(
        default=False, help_text="Whether this agreement allows the data to be sub-licensed to partners."
    )
    dpia_reference = models.CharField("DPIA reference", max_length=100, blank=True)
    is_public = models.BooleanField("Show on public registers", default=True)
    # Set by the supersede step only (an approved request: services.agreement_supersede_request).
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        editable=False,
        help_text="The agreement that replaces this one.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_agreements",
    )
    # The four-eyes rule compares the approver with whoever last changed the agreement.
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    creation_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    audit_events = GenericRelation(
        "audit.AuditEvent",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="agreement",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="agreement_end_not_before_start",
                violation_error_message="The end date must be the same as or after the start date",
            ),
            models.CheckConstraint(
                condition=Q(superseded_by__isnull=True) | ~Q(superseded_by=models.F("pk")),
                name="agreement_not_superseded_by_itself",
                violation_error_message="An agreement cannot be superseded by itself",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "end_date"]),
            models.Index(fields=["kind", "status"]),
            # The dashboard's first rows of reviews overdue and of agreements without a signed copy, read in order
            # rather than sorted from every active agreement.
            models.Index(fields=["status", "review_date"]),
            models.Index(fields=["status", "reference"]),
        ]
        permissions = [
            ("submit_agreement", "Submit an agreement for review"),
            ("approve_agreement", "Approve an agreement"),
            ("terminate_agreement", "Terminate an agreement"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date must be the same as or after the start date"
        if self.review_date and self.start_date and self.review_date < self.start_date:
            errors["review_date"] = "The review date must be the same as or after the start date"
        if self.opt_out == self.OptOut.NOT_APPLIED and not (self.opt_out_reason or "").strip():
            errors["opt_out_reason"] = "Enter why the national data opt-out is not applied"
        if self.parent_id and self.parent_id == self.pk:
            errors["parent"] = "An agreement cannot be its own parent"
        if errors:
            raise ValidationError(errors)

    @property
    def sub_licence_sort_key(self) -> tuple[int, int, str]:
        """SL/25/2 before SL/25/10: year, then number; other references after, alphabetically."""
        return self.reference_sort_key(self.reference)

    @staticmethod
    def reference_sort_key(reference: str) -> tuple[int, int, str]:
        """sub_licence_sort_key of a reference alone, for sorting references read without their agreements."""
        match = SUB_LICENCE_REFERENCE_RE.fullmatch(reference)
        if match:
            return (int(match[1]), int(match[2]), "")
        return (10**6, 0, reference)


# What a change to an approved agreement touches (agreements.services.amendments). Kind and reference name the
# agreement and never change; parties, datasets and purposes are amended alongside these.
AMENDABLE_FIELDS = (
    "title",
    "summary",
    "start_date",
    "end_date",
    "review_date",
    "data_level",
    "article_6_basis",
    "article_9_condition",
    "common_law_basis",
    "statutory_gateway",
    "opt_out",
    "opt_out_reason",
    "parent",
    "permits_sub_licensing",
    "dpia_reference",
    "is_public",
    "owner",
)


def agreement_field(name: str) -> models.Field[Any, Any]:
    """A concrete field of Agreement by name (never a reverse relation)."""
    field = Agreement._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


class Amendment(models.Model):
    """A proposed new version of an approved agreement (active, or approved and waiting to start). The live
    agreement does not change until a second person approves the amendment; approval applies it in one go.

    `fields` holds the whole proposed version of AMENDABLE_FIELDS as JSON (dates as ISO strings, foreign keys as
    ids); `parties` is a list of [organisation id, role]; `datasets` and `purposes` are lists of ids. Only what
    differs from `base` is the amendment's: the rest reads the live agreement (selectors.amendment_proposed_version).
    A request to terminate or supersede an active agreement is an amendment of that kind, approved the same way."""

    class Kind(models.TextChoices):
        CHANGE = "change", "Change"
        TERMINATE = "terminate", "Termination"
        SUPERSEDE = "supersede", "Supersession"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for review"
        RETURNED = "returned", "Returned"
        APPROVED = "approved", "Approved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="amendments")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CHANGE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    fields = models.JSONField(default=dict, blank=True)
    parties = models.JSONField(default=list, blank=True)
    datasets = models.JSONField(default=list, blank=True)
    purposes = models.JSONField(default=list, blank=True)
    # The live version the amendment started from ({"fields", "parties", "datasets", "purposes"}, encoded as above):
    # what the amendment changed is what differs from it, and only that is applied, so a trivial field changed live
    # meanwhile (the owner) is not put back.
    base = models.JSONField(default=dict, blank=True)
    reason = models.TextField(help_text="Why the agreement needs to change.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="amendments")
    # Everyone who wrote to the amendment, the author included: none of them may approve it.
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    # For a request to supersede: the agreement that replaces this one (selectors.supersede_candidates).
    superseded_by = models.ForeignKey(Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Set when a partner contact proposed it: nobody acting for this organisation may approve it.
    partner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status__in=["draft", "submitted", "returned"]),
                name="amendment_one_open_per_agreement",
                violation_error_message="This agreement already has an amendment in progress",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.agreement.reference} ({self.get_status_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Party(models.Model):
    class Role(models.TextChoices):
        CONTROLLER = "controller", "Controller"
        JOINT_CONTROLLER = "joint_controller", "Joint controller"
        PROCESSOR = "processor", "Processor"
        SUB_PROCESSOR = "sub_processor", "Sub-processor"
        PROVIDER = "provider", "Provider"
        RECIPIENT = "recipient", "Recipient"
        SUB_LICENSEE = "sub_licensee", "Sub-licensee"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["agreement", "role", "organisation__name"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation", "role"],
                name="party_unique_role",
                violation_error_message="This organisation already has this role on the agreement",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} ({self.get_role_display()})"


def document_upload_to(instance: Document, filename: str) -> str:
    # The stored name never comes from the user; the original is kept in `filename`.
    if instance.agreement_id is None:
        return f"amendments/{instance.amendment_id}/{instance.sha256}.pdf"
    return f"agreements/{instance.agreement_id}/{instance.sha256}.pdf"


class Document(models.Model):
    class Kind(models.TextChoices):
        SIGNED_COPY = "signed_copy", "Signed copy"
        ANNEX = "annex", "Annex"

    # Empty while the document belongs only to an open amendment: approving the amendment attaches it.
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    # The amendment that added it, if any (kept once approved, as where it came from).
    amendment = models.ForeignKey(Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SIGNED_COPY)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=document_upload_to, max_length=255)
    filename = models.CharField("Original file name", max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)
    # Empty for a document the system attached (an import), as for audit.AuditEvent.actor.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agreement__isnull=False) | Q(amendment__isnull=False),
                name="document_of_agreement_or_amendment",
                violation_error_message="A document belongs to an agreement or to an amendment of one",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ReferenceSequence(models.Model):
    """The last number allocated for a prefix and year. Numbers only go up, so none is ever reused."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="reference_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}/{self.year % 100:02d}: {self.last_number}"


# Direct foreign-key object permission tables, as django-guardian recommends for performance.
# https://django-guardian.readthedocs.io/en/stable/userguide/performance.html
class OrganisationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class OrganisationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class AgreementUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)


class AgreementGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)


# ---------------------------------------------------------------------------------------------------------
# Linkage of non-health data (NHS England, "Supported non-health data linkages": shared/seeds/004_*)

# The dataset categories an ICB may link NHS England's commissioning datasets to, and nothing else.
LINKABLE_CATEGORIES = [
    Dataset.Category.CHILDRENS_SOCIAL_CARE,
    Dataset.Category.EDUCATION,
    Dataset.Category.HOUSING,
    Dataset.Category.CHILDRENS_YOUTH_OFFER,
]
LINKABLE_CATEGORY_CHOICES = [(c.value, c.label) for c in LINKABLE_CATEGORIES]
LINKABLE_CATEGORY_MESSAGE = (
    "Choose children's social care and early help, education, housing or children's youth offer data: "
    "NHS England permits linkage of these only"
)


class PermittedPurpose(models.Model):
    """A purpose NHS England permits for linking a category of non-health data. Reference data, loaded by a
    data migration from the published guidance so that every deployment has it; read-only in the staff area."""

    category = models.CharField("Dataset category", max_length=30, choices=LINKABLE_CATEGORY_CHOICES)
    position = models.PositiveSmallIntegerField(help_text="Order in NHS England's list")
    text = models.TextField()

    class Meta:
        ordering = ["category", "position"]
        constraints = [
            models.UniqueConstraint(fields=["category", "position"], name="permitted_purpose_unique_position")
        ]

    def __str__(self) -> str:
        return self.text[:1].upper() + self.text[1:]


class Linkage(models.Model):
    """An ICB linking NHS England's commissioning data to a category of non-health data, through a provider (who
    holds the non-health data) and a data processor (who does the linking)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        # Was active, and one of the required agreements ended or a rule stopped holding.
        NOT_PERMITTED = "not_permitted", "Not permitted"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    icb = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="linkages_as_icb", verbose_name="ICB")
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="linkages_as_provider",
        verbose_name="Provider organisation",
        help_text="The organisation that holds the non-health data, for example a local authority.",
    )
    processor = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="linkages_as_processor", verbose_name="Data processor"
    )
    category = models.CharField(
        "Dataset category",
        max_length=30,
        choices=LINKABLE_CATEGORY_CHOICES,
        error_messages={"invalid_choice": LINKABLE_CATEGORY_MESSAGE},
    )
    datasets = models.ManyToManyField(Dataset, blank=True, related_name="linkages")
    purposes = models.ManyToManyField(PermittedPurpose, blank=True, related_name="linkages")
    justification = models.TextField(help_text="Why the linkage is needed, in plain English.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    creation_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    audit_events = GenericRelation(
        "audit.AuditEvent",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="linkage",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        permissions = [("activate_linkage", "Activate a linkage")]

    def __str__(self) -> str:
        return self.title


class SentReminder(models.Model):
    """One reminder e-mail that has been sent. The unique key is what stops a re-run or a retry sending it again:
    the row is written in the same transaction as the sending, so a failed send leaves no row and is retried."""

    class Kind(models.TextChoices):
        AGREEMENT_ENDING = "agreement_ending", "Agreement ending"
        REVIEW_OVERDUE = "review_overdue", "Review overdue"
        LINKAGE_LAPSING = "linkage_lapsing", "Linkage about to stop being permitted"
        LINKAGE_NOT_PERMITTED = "linkage_not_permitted", "Linkage no longer permitted"
        ASSURANCE_LAPSING = "assurance_lapsing", "Partner assurance about to lapse"
        REQUEST_ACKNOWLEDGEMENT = "request_acknowledgement", "Data request acknowledgement target"
        REQUEST_DECISION = "request_decision", "Data request decision target"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # "agreement:12", "linkage:3", "organisation:7" or "datarequest:4": one table for every kind of subject.
    subject = models.CharField(max_length=50)
    # Days before the date (90, 30, 7…; 0 for "overdue" or "has happened").
    threshold = models.PositiveSmallIntegerField()
    # The end, review or lapse date the reminder is about: a changed date is a new reminder.
    due_on = models.DateField()
    recipients = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "threshold", "due_on"], name="sent_reminder_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} ({self.threshold} days, {self.due_on})"


class RuleInputsChange(models.Model):
    """A committed change to the tables the rules read: rows only ever added, by database triggers
    (agreements.rule_inputs), and folded nightly into one row of their summed weight. The sum of the weights is the
    version of the rules' inputs, under which what the rules find about the whole register is kept."""

    weight = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.pk}: {self.weight}"
