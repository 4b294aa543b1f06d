import datetime as dt
import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from agreements import services
from agreements.models import Agreement, DataLevel, Document, Organisation, Party
from audit.models import AuditEvent
from tests.factories import (
    AgreementFactory,
    DatasetFactory,
    OrganisationFactory,
    ParentAgreementFactory,
    PurposeFactory,
    UserFactory,
    signed,
)

pytestmark = pytest.mark.django_db

Status = Agreement.Status
Action = AuditEvent.Action


def _fields(**overrides: object) -> dict[str, object]:
    return {
        "title": "Sub-licence of commissioning data",
        "summary": "Plans public health services.",
        "start_date": dt.date(2025, 10, 22),
        "end_date": dt.date(2028, 3, 31),
        "data_level": DataLevel.PSEUDONYMISED,
        "article_6_basis": Agreement.Article6.PUBLIC_TASK,
        "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
        **overrides,
    }


@pytest.fixture
def officer():
    return UserFactory(username="officer", role="IG officer")


@pytest.fixture
def approver():
    return UserFactory(username="approver", role="IG approver")


def _sub_licence(actor, **overrides) -> Agreement:
    return services.sub_licence_create(actor=actor, sub_licensee=OrganisationFactory(), fields=_fields(**overrides))


# --- Organisations -----------------------------------------------------------------------------------------


def test_organisation_create_normalises_and_records_history(officer) -> None:
    organisation = services.organisation_create(
        actor=officer,
        fields={
            "name": "Leicester City Council",
            "ods_code": " 509 ",
            "kind": Organisation.Kind.LOCAL_AUTHORITY,
        },
        reason="New partner",
    )
    assert organisation.ods_code == "509"
    event = AuditEvent.objects.get(organisation=organisation)
    assert (event.actor, event.action, event.reason) == (officer, Action.CREATED, "New partner")
    # The fields' own labels, capitals kept: "ODS code", not "Ods code".
    assert event.changes["ODS code"] == ["", "509"]
    assert event.changes["Name"] == ["", "Leicester City Council"]
    assert "DSPT status" in event.changes
    assert not {"Ods code", "Dspt status"} & set(event.changes)


def test_organisation_create_with_bad_input_writes_nothing(officer) -> None:
    with pytest.raises(ValidationError) as error:
        services.organisation_create(actor=officer, fields={"name": "X", "ods_code": "5 0 9", "kind": "icb"})
    assert "ods_code" in error.value.message_dict
    assert not Organisation.objects.exists()
    assert not AuditEvent.objects.exists()


def test_organisation_create_refuses_a_duplicate_ods_code(officer) -> None:
    OrganisationFactory(ods_code="QK1")
    with pytest.raises(ValidationError) as error:
        services.organisation_create(actor=officer, fields={"name": "Again", "ods_code": "qk1", "kind": "icb"})
    assert error.value.message_dict["ods_code"] == ["An organisation with this ODS code already exists"]
    assert Organisation.objects.count() == 1


def test_organisation_create_twice_with_one_creation_key_makes_one(officer) -> None:
    key = uuid.uuid4()
    fields = {"name": "Council", "ods_code": "509", "kind": "local_authority"}
    first = services.organisation_create(actor=officer, fields=fields, creation_key=key)
    second = services.organisation_create(actor=officer, fields=fields, creation_key=key)
    assert first == second
    assert Organisation.objects.count() == 1


def test_organisation_update_records_only_what_changed(officer) -> None:
    organisation = OrganisationFactory(name="Old name")
    services.organisation_update(
        actor=officer, organisation=organisation, fields={"name": "New name"}, reason="Renamed"
    )
    event = AuditEvent.objects.get(organisation=organisation)
    assert event.action == Action.UPDATED
    assert event.changes == {"Name": ["Old name", "New name"]}


def test_organisation_update_without_changes_records_nothing(officer) -> None:
    organisation = OrganisationFactory(name="Same")
    services.organisation_update(actor=officer, organisation=organisation, fields={"name": "Same"})
    assert not AuditEvent.objects.exists()


def test_partner_contact_grant_and_revoke(officer) -> None:
    partner, organisation = UserFactory(), OrganisationFactory()
    services.partner_contact_grant(actor=officer, user=partner, organisation=organisation, reason="New IG lead")
    assert partner.has_perm("agreements.act_for_organisation", organisation)
    services.partner_contact_revoke(actor=officer, user=partner, organisation=organisation, reason="Left")
    partner = type(partner).objects.get(pk=partner.pk)  # drop guardian's per-user cache
    assert not partner.has_perm("agreements.act_for_organisation", organisation)
    actions = list(AuditEvent.objects.filter(organisation=organisation).values_list("action", flat=True))
    assert actions == [Action.ACCESS_REVOKED, Action.ACCESS_GRANTED]


# --- Reference allocation ------------------------------------------------------------------------------------


def test_sub_licence_references_count_up_within_a_year(officer) -> None:
    with time_machine.travel(dt.datetime(2025, 10, 22, 12, tzinfo=dt.UTC)):
        references = [_sub_licence(officer).reference for _ in range(3)]
    assert references == ["SL/25/1", "SL/25/2", "SL/25/3"]


def test_a_new_year_restarts_the_sequence(officer) -> None:
    with time_machine.travel(dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)):
        assert _sub_licence(officer).reference == "SL/25/1"
        assert _sub_licence(officer).reference == "SL/25/2"
    with time_machine.travel(dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)):
        assert _sub_licence(officer).reference == "SL/26/1"


def test_the_year_is_the_local_year_of_time_zone(officer, settings) -> None:
    # London is on GMT at new year, so UTC and London agree there; a zone ahead of UTC shows the local year wins.
    settings.TIME_ZONE = "Pacific/Auckland"
    with time_machine.travel(dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)):  # 1 January 2026 in Auckland
        assert _sub_licence(officer).reference == "SL/26/1"


def test_a_failed_create_does_not_consume_a_number_but_a_committed_one_is_never_reused(officer) -> None:
    with time_machine.travel(dt.datetime(2025, 10, 22, 12, tzinfo=dt.UTC)):
        first = _sub_licence(officer)
        with pytest.raises(ValidationError):
            _sub_licence(officer, end_date=dt.date(2020, 1, 1))
        # Free the number in the table (an agreement cannot be deleted: its audit events are append-only, and on
        # PostgreSQL a trigger refuses the cascade); the sequence, not the rows, decides the next number.
        Agreement.objects.filter(pk=first.pk).update(reference="FREED-1")
        assert _sub_licence(officer).reference == "SL/25/2"


def test_references_like_sl_are_kept_for_sub_licences(officer) -> None:
    with pytest.raises(ValidationError) as error:
        services.agreement_create(actor=officer, fields=_fields(kind=Agreement.Kind.DSA, reference="SL/25/9"))
    assert error.value.message_dict["reference"] == ["References like SL/25/1 are kept for sub-licences"]


def test_a_sub_licence_reference_cannot_be_typed(officer) -> None:
    with pytest.raises(ValueError, match="allocated by the system"):
        services.agreement_create(actor=officer, fields=_fields(kind=Agreement.Kind.SUB_LICENCE, reference="SL/25/1"))


def test_agreed_on_sets_the_year_of_the_reference(officer) -> None:
    agreement = services.sub_licence_create(
        actor=officer, sub_licensee=OrganisationFactory(), fields=_fields(), agreed_on=dt.date(2024, 6, 1)
    )
    assert agreement.reference == "SL/24/1"


# --- Agreements ---------------------------------------------------------------------------------------------


def test_sub_licence_create_makes_a_draft_with_parties_and_history(officer) -> None:
    council, icb = OrganisationFactory(name="Council"), OrganisationFactory(name="ICB")
    dataset, purpose = DatasetFactory(name="SUS"), PurposeFactory(name="Planning")
    agreement = services.sub_licence_create(
        actor=officer,
        sub_licensee=council,
        licensor=icb,
        fields=_fields(),
        datasets=[dataset],
        purposes=[purpose],
        reason="Approved at IG board",
    )
    assert agreement.status == Status.DRAFT
    assert agreement.kind == Agreement.Kind.SUB_LICENCE
    assert agreement.last_edited_by == officer
    assert agreement.owner == officer
    assert {(p.organisation, p.role) for p in agreement.parties.all()} == {
        (council, Party.Role.SUB_LICENSEE),
        (icb, Party.Role.PROVIDER),
    }
    event = AuditEvent.objects.get(agreement=agreement)
    assert (event.actor, event.action, event.reason) == (officer, Action.CREATED, "Approved at IG board")
    assert event.changes["Datasets"] == ["", "SUS"]
    assert event.changes["Level of data shared"] == ["", "Pseudonymised"]


def test_agreement_create_with_bad_dates_writes_nothing(officer) -> None:
    with pytest.raises(ValidationError) as error:
        _sub_licence(officer, end_date=dt.date(2025, 1, 1))
    assert error.value.message_dict["end_date"] == ["The end date must be the same as or after the start date"]
    assert not Agreement.objects.exists()
    assert not Party.objects.exists()
    assert not AuditEvent.objects.exists()


def test_agreement_create_refuses_a_duplicate_reference(officer) -> None:
    AgreementFactory(reference="DSA-1")
    with pytest.raises(ValidationError) as error:
        services.agreement_create(actor=officer, fields=_fields(kind=Agreement.Kind.DSA, reference="DSA-1"))
    assert error.value.message_dict["reference"] == ["An agreement with this reference already exists"]


def test_agreement_create_with_unknown_party_role_writes_nothing(officer) -> None:
    with pytest.raises(ValidationError), transaction.atomic():
        services.agreement_create(
            actor=officer,
            fields=_fields(kind=Agreement.Kind.DSA, reference="DSA-2"),
            parties=[(OrganisationFactory(), "overlord")],
        )
    assert not Agreement.objects.filter(reference="DSA-2").exists()


def test_agreement_update_records_what_changed_and_who(officer, approver) -> None:
    agreement = _sub_licence(officer)
    dataset = DatasetFactory(name="Housing")
    services.agreement_update(
        actor=approver, agreement=agreement, fields={"title": "New title"}, datasets=[dataset], reason="Typo"
    )
    agreement.refresh_from_db()
    assert agreement.last_edited_by == approver
    event = AuditEvent.objects.filter(agreement=agreement).first()
    assert event.action == Action.UPDATED
    assert event.changes == {
        "Title": ["Sub-licence of commissioning data", "New title"],
        "Datasets": ["", "Housing"],
    }


def test_changing_an_active_agreement_needs_a_reason(officer) -> None:
    # Only its trivial fields change directly (test_amendments.py has the rest).
    agreement = AgreementFactory(status=Status.ACTIVE, owner=None)
    with pytest.raises(ValidationError) as error:
        services.agreement_update(actor=officer, agreement=agreement, fields={"owner": officer}, reason=" ")
    assert error.value.message_dict["reason"] == ["Enter why you are changing an active agreement"]
    agreement.refresh_from_db()
    assert agreement.owner is None
    services.agreement_update(actor=officer, agreement=agreement, fields={"owner": officer}, reason="Handover")
    assert AuditEvent.objects.get(agreement=agreement).reason == "Handover"


def test_agreement_update_with_bad_input_leaves_the_agreement_as_it_was(officer) -> None:
    agreement = AgreementFactory(status=Status.DRAFT, title="Before", end_date=dt.date(2028, 1, 1))
    with pytest.raises(ValidationError):
        services.agreement_update(
            actor=officer, agreement=agreement, fields={"title": "After", "end_date": dt.date(2000, 1, 1)}
        )
    agreement.refresh_from_db()
    assert (agreement.title, agreement.end_date) == ("Before", dt.date(2028, 1, 1))
    assert not AuditEvent.objects.exists()


def test_a_sub_licence_cannot_change_kind(officer) -> None:
    agreement = _sub_licence(officer)
    with pytest.raises(ValidationError) as error:
        services.agreement_update(actor=officer, agreement=agreement, fields={"kind": Agreement.Kind.DSA})
    assert "kind" in error.value.message_dict


def test_an_ended_agreement_cannot_be_changed(officer) -> None:
    agreement = AgreementFactory(status=Status.TERMINATED)
    with pytest.raises(ValidationError, match="terminated and can no longer be changed"):
        services.agreement_update(actor=officer, agreement=agreement, fields={"title": "x"}, reason="x")


# --- Workflow -----------------------------------------------------------------------------------------------


def test_draft_to_review_to_active_with_history(officer, approver) -> None:
    # Under a parent that permits sub-licensing: the chain rules are tested in test_rules.py.
    agreement = signed(_sub_licence(officer, parent=ParentAgreementFactory()))
    services.agreement_submit(actor=officer, agreement=agreement)
    services.agreement_approve(actor=approver, agreement=agreement, reason="IG board 3 November")
    agreement.refresh_from_db()
    assert agreement.status == Status.ACTIVE
    events = list(AuditEvent.objects.filter(agreement=agreement).order_by("at", "pk"))
    assert [(e.action, e.actor) for e in events] == [
        (Action.CREATED, officer),
        (Action.SUBMITTED, officer),
        (Action.APPROVED, approver),
    ]
    assert events[-1].changes == {"Status": ["In review", "Active"]}
    assert events[-1].reason == "IG board 3 November"


def test_four_eyes_the_last_editor_cannot_approve(officer, approver) -> None:
    agreement = signed(_sub_licence(approver, parent=ParentAgreementFactory()))
    services.agreement_submit(actor=approver, agreement=agreement)
    with pytest.raises(ValidationError) as error:
        services.agreement_approve(actor=approver, agreement=agreement)
    assert error.value.messages == [
        "You cannot approve this agreement because you were the last person to edit it. "
        "Another approver must approve it."
    ]
    agreement.refresh_from_db()
    assert agreement.status == Status.IN_REVIEW


def test_only_an_agreement_in_review_can_be_approved(officer, approver) -> None:
    agreement = _sub_licence(officer)
    with pytest.raises(ValidationError, match="is draft; only an agreement that is in review can be approved"):
        services.agreement_approve(actor=approver, agreement=agreement)


def test_return_to_draft_needs_a_reason(officer, approver) -> None:
    agreement = signed(_sub_licence(officer, parent=ParentAgreementFactory()))
    services.agreement_submit(actor=officer, agreement=agreement)
    with pytest.raises(ValidationError):
        services.agreement_return(actor=approver, agreement=agreement, reason="")
    services.agreement_return(actor=approver, agreement=agreement, reason="Add the DPIA reference")
    agreement.refresh_from_db()
    assert agreement.status == Status.DRAFT


def test_terminating_needs_a_reason(approver) -> None:
    # An approved agreement is terminated through a request a second person approves: test_amendments.py.
    agreement = AgreementFactory(status=Status.IN_REVIEW)
    with pytest.raises(ValidationError) as error:
        services.agreement_terminate(actor=approver, agreement=agreement, reason="")
    assert error.value.message_dict["reason"] == ["Enter why the agreement is being terminated"]
    services.agreement_terminate(actor=approver, agreement=agreement, reason="Partner withdrew")
    agreement.refresh_from_db()
    assert agreement.status == Status.TERMINATED
    assert AuditEvent.objects.get(agreement=agreement).reason == "Partner withdrew"


def test_expiry_is_idempotent_and_recorded_as_the_system() -> None:
    ended = AgreementFactory(status=Status.ACTIVE, start_date=dt.date(2024, 1, 1), end_date=dt.date(2025, 10, 31))
    ends_today = AgreementFactory(status=Status.ACTIVE, start_date=dt.date(2024, 1, 1), end_date=dt.date(2025, 11, 1))
    draft = AgreementFactory(status=Status.DRAFT, start_date=dt.date(2024, 1, 1), end_date=dt.date(2025, 1, 1))
    assert services.agreements_expire(today=dt.date(2025, 11, 1)) == [ended.reference]
    assert services.agreements_expire(today=dt.date(2025, 11, 1)) == []
    ended.refresh_from_db(), ends_today.refresh_from_db(), draft.refresh_from_db()
    assert (ended.status, ends_today.status, draft.status) == (Status.EXPIRED, Status.ACTIVE, Status.DRAFT)
    event = AuditEvent.objects.get(agreement=ended)
    assert (event.actor, event.action, event.actor_name) == (None, Action.EXPIRED, "System")
    assert event.reason == "End date 31 October 2025 has passed"


def test_expire_task_runs_the_service() -> None:
    from agreements.tasks import expire_agreements

    AgreementFactory(status=Status.ACTIVE, start_date=dt.date(2020, 1, 1), end_date=dt.date(2021, 1, 1))
    assert len(expire_agreements.delay().get()) == 1


# --- Documents ----------------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_document_add_stores_the_pdf_with_its_digest(officer) -> None:
    agreement = AgreementFactory()
    upload = SimpleUploadedFile("signed copy.pdf", PDF, content_type="application/pdf")
    document = services.document_add(
        actor=officer, agreement=agreement, upload=upload, title="Signed copy", kind=Document.Kind.SIGNED_COPY
    )
    assert document.size == len(PDF)
    assert document.filename == "signed copy.pdf"
    assert document.file.name == f"agreements/{agreement.pk}/{document.sha256}.pdf"
    assert document.file.read() == PDF
    assert AuditEvent.objects.get(agreement=agreement).action == Action.DOCUMENT_ADDED


def test_document_add_refuses_a_file_that_is_not_a_pdf(officer) -> None:
    upload = SimpleUploadedFile("notes.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.document_add(actor=officer, agreement=AgreementFactory(), upload=upload, title="x", kind="annex")
    assert error.value.message_dict["file"] == ["The file must be a PDF"]
    assert not Document.objects.exists()


def test_document_add_refuses_an_oversized_file(officer, settings) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024), content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.document_add(actor=officer, agreement=AgreementFactory(), upload=upload, title="x", kind="annex")
    assert error.value.message_dict["file"] == ["The file must be smaller than 1 MB"]
    assert not Document.objects.exists()


def test_the_system_can_attach_a_document() -> None:
    upload = SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf")
    document = services.document_add(actor=None, agreement=AgreementFactory(), upload=upload, title="x", kind="annex")
    assert document.uploaded_by is None
    assert AuditEvent.objects.get(agreement=document.agreement).actor_name == "System"


def test_submit_is_refused_while_the_readiness_checklist_fails(officer) -> None:
    agreement = _sub_licence(officer)
    with pytest.raises(ValidationError) as error:
        services.agreement_submit(actor=officer, agreement=agreement)
    # Every failing item of the checklist, each in plain English: the chain rule and the missing signed copy alike.
    assert error.value.messages == [
        "The sub-licence has no parent agreement: record the NHS England agreement (DARS-NIC-…) whose data it "
        "re-shares",
        "No signed copy is uploaded: an agreement is reviewed and approved only with its signed copy (PDF)",
    ]
    agreement.refresh_from_db()
    assert agreement.status == Status.DRAFT
    signed(agreement)
    with pytest.raises(ValidationError) as error:
        services.agreement_submit(actor=officer, agreement=agreement)
    assert len(error.value.messages) == 1


def test_an_agreement_that_has_already_ended_cannot_be_submitted_nor_approved(officer, approver) -> None:
    agreement = signed(
        AgreementFactory(status=Status.DRAFT, start_date=dt.date(2020, 4, 1), end_date=dt.date(2021, 3, 31))
    )
    with pytest.raises(ValidationError, match="It ended on 31 March 2021: an agreement that has already ended"):
        services.agreement_submit(actor=officer, agreement=agreement)
    # In review from before it ended (written directly): approval asks the same checklist.
    Agreement.objects.filter(pk=agreement.pk).update(status=Status.IN_REVIEW)
    with pytest.raises(ValidationError, match="already ended cannot be submitted or approved"):
        services.agreement_approve(actor=approver, agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.status == Status.IN_REVIEW


# --- Invariants at the write, whoever calls (an import, the shell, a future API) -----------------------------


def test_a_duplicate_organisation_name_is_refused_ignoring_case_by_the_service_and_the_database(officer) -> None:
    existing = OrganisationFactory(name="Rutland County Council")
    fields = {"name": "  rutland   county council ", "ods_code": "465", "kind": Organisation.Kind.LOCAL_AUTHORITY}
    with pytest.raises(ValidationError) as raised:
        services.organisation_create(actor=officer, fields=fields)
    assert raised.value.message_dict == {"name": ["An organisation called rutland county council already exists"]}
    other = OrganisationFactory(name="Blaby District Council")
    with pytest.raises(ValidationError, match="already exists"):
        services.organisation_update(actor=officer, organisation=other, fields={"name": "RUTLAND COUNTY COUNCIL"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.create(name="RUTLAND County Council", ods_code="466", kind=existing.kind)
    assert Organisation.objects.count() == 2


def test_a_licensor_cannot_be_its_own_sub_licensee(officer) -> None:
    council = OrganisationFactory()
    with pytest.raises(ValidationError) as raised:
        services.sub_licence_create(actor=officer, sub_licensee=council, licensor=council, fields=_fields())
    assert raised.value.message_dict == {
        "licensor": ["The licensor and the sub-licensee must be different organisations"]
    }
    sub_licence = _sub_licence(officer)
    licensee = sub_licence.parties.get().organisation
    with pytest.raises(ValidationError, match="must be different organisations"):
        services.agreement_update(
            actor=officer,
            agreement=sub_licence,
            fields={},
            parties=[(licensee, Party.Role.SUB_LICENSEE), (licensee, Party.Role.PROVIDER)],
        )
    assert Agreement.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parties": "swap"}, "parties"),
        ({"fields": {"owner": "approver"}}, "owner"),
        ({"fields": {"parent": "other"}}, "parent"),
        ({"fields": {"permits_sub_licensing": True}}, "permits_sub_licensing"),
    ],
)
def test_a_partner_contact_cannot_change_parties_owner_or_parent(officer, approver, change, field) -> None:
    council = OrganisationFactory()
    partner = UserFactory(username="council-ig")
    services.partner_contact_grant(actor=officer, user=partner, organisation=council)
    agreement = AgreementFactory(status=Status.DRAFT, title="Before")
    agreement.parties.create(organisation=council, role=Party.Role.RECIPIENT)
    values = {"owner": approver, "parent": ParentAgreementFactory(), "permits_sub_licensing": True}
    kwargs: dict = {"fields": {k: values[k] for k in change.get("fields", {})}}
    if "parties" in change:
        kwargs["parties"] = [(OrganisationFactory(), Party.Role.RECIPIENT)]
    with pytest.raises(ValidationError) as raised:
        services.agreement_update(actor=partner, agreement=agreement, **kwargs)
    assert list(raised.value.message_dict) == [field]
    agreement.refresh_from_db()
    assert (agreement.owner, agreement.parent, list(agreement.parties.values_list("organisation", flat=True))) == (
        None,
        None,
        [council.pk],
    )
    # The fields the domain lets partners change, they can; another organisation's agreement, they cannot touch.
    services.agreement_update(actor=partner, agreement=agreement, fields={"title": "Changed by the council"})
    with pytest.raises(PermissionDenied):
        services.agreement_update(actor=partner, agreement=AgreementFactory(), fields={"title": "Not ours"})


def test_a_partner_contacts_form_may_post_ig_only_fields_as_they_stand(officer, approver) -> None:
    council = OrganisationFactory()
    partner = UserFactory(username="council-ig")
    services.partner_contact_grant(actor=officer, user=partner, organisation=council)
    parent = ParentAgreementFactory()
    agreement = AgreementFactory(status=Status.DRAFT, title="Before", owner=approver, parent=parent)
    agreement.parties.create(organisation=council, role=Party.Role.RECIPIENT)
    # Every IG-only field posted unchanged, beside the title the partner does change: accepted.
    services.agreement_update(
        actor=partner,
        agreement=agreement,
        fields={"title": "Changed by the council", "owner": approver, "parent": parent, "is_public": True},
        parties=[(council, Party.Role.RECIPIENT)],
    )
    agreement.refresh_from_db()
    assert (agreement.title, agreement.owner, agreement.parent) == ("Changed by the council", approver, parent)
    # Only the IG-only field that changes is refused, by name.
    with pytest.raises(ValidationError) as raised:
        services.agreement_update(
            actor=partner, agreement=agreement, fields={"title": "Again", "owner": approver, "is_public": False}
        )
    assert raised.value.message_dict == {
        "is_public": ["Only the IG team can change this. Ask them if it needs to change."]
    }
    agreement.refresh_from_db()
    assert (agreement.title, agreement.is_public) == ("Changed by the council", True)
