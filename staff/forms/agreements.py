"""Staff forms. They check what a person typed and say plainly what is wrong; services do the writing.

Every form renders NHS.UK markup through templates/forms/ (NHSRenderer): a label, a hint, an error message at
the field, and an error summary at the top of the page that links to each field. Dates use the NHS.UK date
input (day, month, year). Nothing here writes to the database.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.boundfield import BoundField

from agreements import roles, selectors, services, workflow
from agreements.models import (
    SUB_LICENCE_REFERENCE_RE,
    Agreement,
    DataLevel,
    Dataset,
    Document,
    Organisation,
    Party,
    Purpose,
    normalise_ods_code,
)
from nhsuk.forms import LongSelect, NHSDateField, NHSFormMixin, tidy_blank_choice, whole_number


class CreationKeyMixin(forms.Form):
    """A one-time key in a hidden field: a double-clicked submit sends the same key twice, and the service
    returns the record the first click created instead of making another."""

    creation_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("creation_key", uuid.uuid4())


def _max_length_message(label: str, limit: int) -> str:
    return f"{label} must be {limit} characters or fewer"


def _friendly_lengths(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        max_length = getattr(field, "max_length", None)
        if max_length:
            field.error_messages["max_length"] = _max_length_message(str(field.label), max_length)


# The largest id a bigint column holds. A larger number typed into a multiple choice would reach the database as
# an out-of-range parameter (OverflowError on SQLite, an error on PostgreSQL): refuse it as an unknown choice.
MAX_ID = 2**63 - 1


class RecordsChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that answers any id too large to exist with its usual "not a valid choice"."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else ():
            text = str(pk).strip()
            # Only ids in the digits 0-9 within range reach the database ("²" and "٣" are not ids here).
            if text and whole_number(text, maximum=MAX_ID) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": text[:20]}
                )
        return super().clean(value)


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's field of that name as the ChoiceField it is: form.fields is typed as holding plain Fields."""
    return cast(forms.ChoiceField, form.fields[name])


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """As choice_field, for a ModelChoiceField (or a ModelMultipleChoiceField, its subclass)."""
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


# ---------------------------------------------------------------------------------------------------------
# Organisations


class OrganisationForm(NHSFormMixin, CreationKeyMixin, forms.ModelForm):
    website = forms.URLField(label="Website (optional)", required=False, max_length=200, assume_scheme="https")
    reason = forms.CharField(
        label="Why are you making this change? (optional)",
        help_text="Kept in the organisation's history.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    widths = {
        "ods_code": "nhsuk-input--width-10 nhsuk-input--code",
        "ico_registration_number": "nhsuk-input--width-10 nhsuk-input--code",
        "dspt_assessment_year": "nhsuk-input--width-5",
    }

    class Meta:
        model = Organisation
        fields = [
            "name",
            "ods_code",
            "kind",
            "ico_registration_number",
            "ico_registration_expires",
            "dspt_status",
            "dspt_assessment_year",
        ]
        field_classes = {"ico_registration_expires": NHSDateField}
        labels = {"name": "Name", "kind": "Type of organisation", "website": "Website (optional)"}
        help_texts = {
            "ods_code": "The organisation's code in the NHS Organisation Data Service, like 509, QK1 or C82001. "
            "Letters and numbers only.",
            "ico_registration_number": "Optional. Like Z1234567 or ZA123456, from the ICO's register of fee payers.",
            "ico_registration_expires": "Optional. For example, 31 3 2027",
            "dspt_status": "The Data Security and Protection Toolkit status for the current assessment year.",
            "dspt_assessment_year": "Optional. Like 2025-26",
        }

    def __init__(self, *args: Any, with_reason: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["name", "ods_code", "kind", "website"])
        if not self.is_bound and self.instance.pk:
            self.initial.setdefault("website", self.instance.website)
        if not with_reason:
            del self.fields["reason"]
        if self.instance.pk:
            del self.fields["creation_key"]
        self.fields["ico_registration_expires"].label = "ICO registration expires (optional)"
        self.fields["name"].error_messages["required"] = "Enter the organisation's name"
        self.fields["ods_code"].error_messages["required"] = "Enter the organisation's ODS code"
        self.fields["kind"].error_messages["required"] = "Select the type of organisation"
        self.fields["website"].error_messages["invalid"] = "Enter a website address like https://www.example.nhs.uk"
        _friendly_lengths(self)
        self.fields["ods_code"].error_messages["max_length"] = (
            "Enter an ODS code of 3 to 10 letters and numbers, like 509, QK1 or C82001"
        )

    def clean_name(self) -> str:
        try:
            return services.organisation_name_clean(name=self.cleaned_data["name"], organisation=self.instance)
        except ValidationError as error:
            raise ValidationError(error.message_dict["name"]) from error

    def clean_ods_code(self) -> str:
        # Spaces around the code and lower case are safely corrected; anything else is refused by the model.
        return normalise_ods_code(self.cleaned_data["ods_code"])

    def clean_ico_registration_number(self) -> str:
        return (self.cleaned_data.get("ico_registration_number") or "").strip().upper()

    def model_fields(self) -> dict[str, Any]:
        # The website is a declared field (for its https default), so it is not among Meta.fields.
        return {name: self.cleaned_data[name] for name in [*self.Meta.fields, "website"]}


class OrganisationSearchForm(NHSFormMixin, forms.Form):
    """The organisations list's search and order. A GET form, so both are in the page's address."""

    # value: (label, order_by). The first is the default order.
    SORTS = {
        "": ("Name, A to Z", ("name",)),
        "ods_code": ("ODS code", ("ods_code",)),
        "kind": ("Type", ("kind", "name")),
        "dspt_status": ("DSPT status", ("dspt_status", "name")),
        "-agreement_count": ("Most agreements first", ("-agreement_count", "name")),
        "-updated_at": ("Last changed, newest first", ("-updated_at", "name")),
    }

    q = forms.CharField(label="Search by name or ODS code", required=False, max_length=200)
    assurance_attention = forms.BooleanField(
        label="Partner assurance missing or lapsing soon",
        help_text="Sub-licensees whose DSPT status or ICO registration needs updating",
        required=False,
    )
    sort = forms.ChoiceField(
        label="Sort by", choices=[(value, label) for value, (label, _) in SORTS.items()], required=False
    )

    def order_by(self) -> tuple[str, ...]:
        sort = self.cleaned_data.get("sort", "") if self.is_bound and self.is_valid() else ""
        return self.SORTS.get(sort, self.SORTS[""])[1]


# ---------------------------------------------------------------------------------------------------------
# Agreements

AGREEMENT_FIELDS = [
    "kind",
    "reference",
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
    "purposes",
    "datasets",
    "parent",
    "permits_sub_licensing",
    "dpia_reference",
    "is_public",
    "owner",
]
M2M_FIELDS = ("purposes", "datasets")
EXTRA_PARTY_ROWS = 2
MIN_PARTY_ROWS = 3

AGREEMENT_HINTS = {
    "reference": "Your reference for the agreement, like DSA-LLR-2026-003. Letters, numbers, slashes, hyphens, "
    "dots or underscores.",
    "title": "A short name the team will recognise.",
    "summary": "In plain English: who shares what, and why. Shown on the public registers.",
    "start_date": "For example, 1 4 2026",
    "end_date": "Optional. For example, 31 3 2029",
    "review_date": "Optional. When the team should next review it.",
    "statutory_gateway": "Optional. The law that allows or requires the sharing, if there is one.",
    "opt_out_reason": "Needed when the opt-out is not applied.",
    "purposes": "Select all that apply.",
    "datasets": "Select all that apply.",
    "parent": "For a sub-licence: the NHS England agreement (DARS-NIC-…) it re-shares data under.",
    "dpia_reference": "Optional. The data protection impact assessment that covers this sharing.",
    "owner": "Optional. The person in the IG team who looks after it.",
}


class AgreementForm(NHSFormMixin, CreationKeyMixin, forms.ModelForm):
    """Create or change an agreement of any kind but a sub-licence (which has its own page), with its parties."""

    reason = forms.CharField(
        label="Why are you making this change?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    widths = {
        "reference": "nhsuk-input--width-20",
        "dpia_reference": "nhsuk-input--width-20",
    }

    class Meta:
        model = Agreement
        fields = AGREEMENT_FIELDS
        field_classes = {
            "start_date": NHSDateField,
            "end_date": NHSDateField,
            "review_date": NHSDateField,
            "purposes": RecordsChoiceField,
            "datasets": RecordsChoiceField,
        }
        widgets = {
            "kind": forms.RadioSelect,
            "data_level": forms.RadioSelect,
            "opt_out": forms.RadioSelect,
            "purposes": forms.CheckboxSelectMultiple,
            "datasets": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "opt_out_reason": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "is_public": "Show on the public registers",
            "parent": "Parent agreement (optional)",
            "permits_sub_licensing": "Permits sub-licensing",
        }
        help_texts = AGREEMENT_HINTS

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        agreement = self.instance
        self.is_partner = not user.has_perm("agreements.change_agreement")
        if agreement.pk:
            del self.fields["creation_key"]
        is_sub_licence = agreement.kind == Agreement.Kind.SUB_LICENCE
        if agreement.pk or self.is_partner:
            del self.fields["kind"]
        else:
            kind = choice_field(self, "kind")
            kind.choices = [c for c in Agreement.Kind.choices if c[0] != Agreement.Kind.SUB_LICENCE]
            kind.help_text = "For a sub-licence, use New sub-licence: its reference is given for you."
        if is_sub_licence or agreement.pk:
            # A sub-licence's reference is allocated; any other is fixed once saved (it names the agreement).
            del self.fields["reference"]
        if self.is_partner:
            # A partner contact changes only what the domain lets partners change (never who is party to it).
            for name in list(self.fields):
                if name not in workflow.PARTNER_EDITABLE_FIELDS | {"reason", "creation_key"}:
                    del self.fields[name]
        else:
            parents = Agreement.objects.exclude(kind=Agreement.Kind.SUB_LICENCE)
            if agreement.pk:
                parents = parents.exclude(pk=agreement.pk)
            parent = model_choice_field(self, "parent")
            parent.queryset = parents.order_by("reference")
            parent.empty_label = "None"
            owner = model_choice_field(self, "owner")
            owner.queryset = (
                get_user_model()
                .objects.filter(Q(groups__name__in=[roles.IG_OFFICER, roles.IG_APPROVER]) | Q(is_superuser=True))
                .filter(is_active=True)
                .distinct()
                .order_by("username")
            )
            owner.empty_label = "Nobody"
        model_choice_field(self, "purposes").queryset = Purpose.objects.order_by("name")
        model_choice_field(self, "datasets").queryset = Dataset.objects.select_related("provider").order_by("name")
        self.fields["article_9_condition"].label = "UK GDPR Article 9 condition"
        self.fields["end_date"].label = "End date"
        self.fields["review_date"].label = "Review date"
        self.fields["start_date"].label = "Start date"
        for name, message in {
            "title": "Enter a title",
            "reference": "Enter a reference",
            "kind": "Select the type of agreement",
            "start_date": "Enter the start date",
            "data_level": "Select the level of data shared",
            "article_6_basis": "Select the UK GDPR Article 6 basis",
            "common_law_basis": "Select the common law basis",
        }.items():
            if name in self.fields:
                self.fields[name].error_messages["required"] = message
        _friendly_lengths(self)
        self.reason_required = agreement.status == Agreement.Status.ACTIVE
        if not agreement.pk:
            del self.fields["reason"]
        elif self.reason_required:
            self.fields["reason"].help_text = "This agreement is active, so you must say why. Kept in its history."
        else:
            self.fields["reason"].label = "Why are you making this change? (optional)"
            self.fields["reason"].help_text = "Kept in the agreement's history."
        self.party_rows = 0
        if not self.is_partner:
            self._add_party_fields()

    # Parties: a fixed number of rows (the current parties and some empty ones), each an organisation and a role.
    def _add_party_fields(self) -> None:
        # .all(), not a new query: the instance may be an amendment's proposed version, whose parties are its own.
        existing = list(self.instance.parties.all()) if self.instance.pk else []
        if self.is_bound:
            # A hidden field the page sets; anything else typed into it falls back to the minimum.
            typed = str(self.data.get("party_rows") or "").strip()
            rows = min(max(whole_number(typed, maximum=999) or 0, MIN_PARTY_ROWS), 50)
        else:
            rows = max(len(existing) + EXTRA_PARTY_ROWS, MIN_PARTY_ROWS)
        organisations = Organisation.objects.order_by("name")
        for index in range(rows):
            number = index + 1
            self.fields[f"party_{number}_organisation"] = forms.ModelChoiceField(
                organisations, required=False, label=f"Party {number}: organisation", empty_label="Choose"
            )
            self.fields[f"party_{number}_role"] = forms.ChoiceField(
                choices=[("", "Choose"), *Party.Role.choices], required=False, label=f"Party {number}: role"
            )
            if index < len(existing):
                self.initial[f"party_{number}_organisation"] = existing[index].organisation_id
                self.initial[f"party_{number}_role"] = existing[index].role
        self.party_rows = rows

    @property
    def party_fields(self) -> list[tuple[BoundField, BoundField]]:
        return [(self[f"party_{n}_organisation"], self[f"party_{n}_role"]) for n in range(1, self.party_rows + 1)]

    SECTIONS = [
        ("About the agreement", ["kind", "sub_licensee", "licensor", "parent", "reference", "title", "summary"]),
        ("Dates", ["start_date", "end_date", "review_date"]),
        (
            "Data and legal basis",
            ["data_level", "article_6_basis", "article_9_condition", "common_law_basis", "statutory_gateway"],
        ),
        ("National data opt-out", ["opt_out", "opt_out_reason"]),
        ("Purposes and datasets", ["purposes", "datasets"]),
        ("Governance", ["permits_sub_licensing", "dpia_reference", "is_public", "owner"]),
    ]

    @property
    def sections(self) -> list[tuple[str, list[BoundField]]]:
        sections = []
        for heading, names in self.SECTIONS:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                sections.append((heading, fields))
        return sections

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # ModelForm.clean returns cleaned_data
        if self.party_rows:
            parties = []
            for number in range(1, self.party_rows + 1):
                organisation = data.get(f"party_{number}_organisation")
                role = data.get(f"party_{number}_role")
                if organisation and not role:
                    self.add_error(f"party_{number}_role", f"Select the role of {organisation.name}")
                elif role and not organisation:
                    self.add_error(f"party_{number}_organisation", f"Select the organisation for party {number}")
                elif organisation and role:
                    parties.append((organisation, role))
            if not parties and not self.has_error("party_1_organisation") and not self.has_error("party_1_role"):
                self.add_error("party_1_organisation", "Add at least one organisation that is party to the agreement")
            data["parties"] = list(dict.fromkeys(parties))
        if "reason" in self.fields and self.reason_required and not (data.get("reason") or "").strip():
            self.add_error("reason", "Enter why you are changing an active agreement")
        reference = data.get("reference") or ""
        if SUB_LICENCE_REFERENCE_RE.fullmatch(reference):
            self.add_error("reference", "References like SL/25/1 are kept for sub-licences")
        return data

    def model_fields(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in AGREEMENT_FIELDS if name in self.fields and name not in M2M_FIELDS
        }

    def parties(self) -> list[tuple[Organisation, str]] | None:
        return self.cleaned_data["parties"] if self.party_rows else None


class SubLicenceForm(AgreementForm):
    """A new sub-licence: the reference (SL/YY/N) is allocated when it is saved."""

    sub_licensee = forms.ModelChoiceField(
        Organisation.objects.order_by("name"),
        label="Sub-licensee",
        help_text="The partner organisation the data is sub-licensed to.",
        empty_label="Choose an organisation",
        error_messages={"required": "Select the organisation the data is sub-licensed to"},
    )
    licensor = forms.ModelChoiceField(
        Organisation.objects.order_by("name"),
        label="Licensor (optional)",
        help_text="Usually the ICB, which holds the data under its NHS England agreement.",
        empty_label="Choose an organisation",
        required=False,
    )

    field_order = ["sub_licensee", "licensor", "parent"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Agreement(kind=Agreement.Kind.SUB_LICENCE))
        super().__init__(*args, **kwargs)
        for name in [n for n in self.fields if n.startswith("party_")]:
            del self.fields[name]
        self.fields.pop("kind", None)
        self.party_rows = 0
        parent = model_choice_field(self, "parent")
        parent.label = "Parent agreement"
        # Only parents that could be valid; the only one is chosen for you.
        parent.queryset = selectors.sub_licence_parent_candidates()
        if not self.is_bound and not self.initial.get("parent") and len(candidates := list(parent.queryset[:2])) == 1:
            self.initial["parent"] = candidates[0].pk
        parent.help_text = "The ICB's NHS England agreement (DARS-NIC-…) the data is re-shared under."
        if not self.is_bound:
            self.initial.setdefault("licensor", Organisation.objects.filter(kind=Organisation.Kind.ICB).first())
        self.order_fields(["sub_licensee", "licensor", "parent", "title", "summary"])


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class AgreementFilterForm(NHSFormMixin, forms.Form):
    """The agreements list's search, filters and order. A GET form, so every choice is in the page's address."""

    # value: (label, order_by). The first is the default order.
    SORTS = {
        "": ("Start date, newest first", ("-start_date", "reference")),
        "reference": ("Reference", ("reference",)),
        "title": ("Title, A to Z", ("title", "reference")),
        "status": ("Status", ("status", "reference")),
        "review_date": ("Review date, soonest first", ("review_date", "reference")),
        "end_date": ("End date, soonest first", ("end_date", "reference")),
        "-updated_at": ("Last changed, newest first", ("-updated_at", "reference")),
    }

    q = forms.CharField(label="Search", help_text="Reference, title or partner", required=False, max_length=200)
    kind = forms.ChoiceField(label="Type", choices=[("", "All types"), *Agreement.Kind.choices], required=False)
    status = forms.ChoiceField(
        label="Status", choices=[("", "All statuses"), *Agreement.Status.choices], required=False
    )
    data_level = forms.ChoiceField(
        label="Level of data", choices=[("", "All levels"), *DataLevel.choices], required=False
    )
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="All organisations",
        widget=LongSelect(label_fields=("name", "ods_code"), label=Organisation.label),
    )
    owner = _PersonChoiceField(
        label="Owner", queryset=get_user_model().objects.none(), required=False, empty_label="Anyone", widget=LongSelect
    )
    ending_soon = forms.BooleanField(label="Ending in the next 90 days", required=False)
    review_overdue = forms.BooleanField(label="Review overdue", required=False)
    failing_rules = forms.BooleanField(
        label="Rules failing today", help_text="Sub-licences the next edition leaves out", required=False
    )
    sort = forms.ChoiceField(
        label="Sort by", choices=[(value, label) for value, (label, _) in SORTS.items()], required=False
    )

    def __init__(self, *args: Any, visible: Any, **kwargs: Any) -> None:
        """`visible`: the agreements this person may see; the choices name only their organisations and owners."""
        super().__init__(*args, **kwargs)
        fields = cast(dict[str, forms.ModelChoiceField], self.fields)
        # There can be thousands: the widget reads only the name and ODS code of each.
        fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=Party.objects.filter(agreement__in=visible.values("pk")).values("organisation_id")
        ).order_by("name")
        fields["owner"].queryset = (
            get_user_model().objects.filter(owned_agreements__in=visible.values("pk")).distinct().order_by("username")
        )

    def order_by(self) -> tuple[str, ...]:
        sort = self.cleaned_data.get("sort", "") if self.is_bound and self.is_valid() else ""
        return self.SORTS.get(sort, self.SORTS[""])[1]


# ---------------------------------------------------------------------------------------------------------
# Workflow and documents


class ReasonForm(NHSFormMixin, forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(
        self, *args: Any, label: str, required: bool, required_message: str = "", hint: str = "", **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.required = required
        field.label = label if required else f"{label} (optional)"
        field.help_text = hint
        field.error_messages["required"] = required_message or "Enter a reason"
        field.error_messages["max_length"] = _max_length_message("The reason", 2000)


class _ReplacementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.reference}: {obj.title}"


class SupersedeForm(NHSFormMixin, forms.Form):
    """A request to supersede an active agreement: which agreement replaces it (only the valid candidates,
    selectors.supersede_candidates, are offered) and why."""

    superseded_by = _ReplacementChoiceField(
        label="Which agreement replaces it?",
        queryset=Agreement.objects.none(),
        error_messages={
            "required": "Choose the agreement that replaces this one",
            "invalid_choice": "Choose one of the agreements listed",
        },
    )
    reason = forms.CharField(
        label="Why is it being superseded?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Kept in the agreement's history.",
        error_messages={"required": workflow.STEPS[workflow.SUPERSEDE].reason_message},
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["superseded_by"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.supersede_candidates(agreement=agreement)
        field.help_text = (
            f"Another {agreement.get_kind_display().lower()} that is approved or active. Record and approve the new "
            "agreement first if it is not listed."
        )
        tidy_blank_choice(field)
        self.fields["reason"].error_messages["max_length"] = _max_length_message("The reason", 2000)


class DocumentForm(NHSFormMixin, forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=200,
        help_text="For example, Signed agreement, March 2026",
        error_messages={"required": "Enter a title for the document"},
    )
    kind = forms.ChoiceField(
        label="Type of document", choices=Document.Kind.choices, widget=forms.RadioSelect, initial="signed_copy"
    )
    file = forms.FileField(
        label="Upload a PDF",
        help_text="",
        error_messages={"required": "Select a PDF file to upload", "empty": "The selected file is empty"},
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_mb = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = f"A PDF of {self.limit_mb} MB or less."
        _friendly_lengths(self)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.DOCUMENT_MAX_BYTES:
            raise ValidationError(f"The selected file must be smaller than {self.limit_mb} MB")
        upload.seek(0)
        head = upload.read(5)
        upload.seek(0)
        if not (upload.name or "").lower().endswith(".pdf") or head != b"%PDF-":
            raise ValidationError("The selected file must be a PDF")
        return upload
