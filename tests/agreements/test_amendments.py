"""Amendments to approved agreements, through the services: nothing changes live until a second person approves."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agreements import selectors, services, workflow
from agreements.models import Agreement, Amendment, DataLevel
from audit.models import AuditEvent
from publishing.registers import register_kind
from tests.factories import (
    AgreementFactory,
    DatasetFactory,
    OrganisationFactory,
    ParentAgreementFactory,
    SubLicenceFactory,
    UserFactory,
    signed,
)

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
Status = Amendment.Status


@pytest.fixture
def officer():
    return UserFactory(username="officer", role="IG officer")


@pytest.fixture
def approver():
    return UserFactory(username="approver", role="IG approver")


@pytest.fixture
def other_approver():
    return UserFactory(username="other-approver", role="IG approver")


@pytest.fixture
def council():
    return OrganisationFactory(name="Leicester City Council", ods_code="509")


@pytest.fixture
def partner(council):
    user = UserFactory(username="partner")
    services.partner_contact_grant(actor=None, user=user, organisation=council)
    return user


@pytest.fixture
def sub_licence(council):
    parent = ParentAgreementFactory(end_date=dt.date(2030, 3, 31), data_level=DataLevel.PSEUDONYMISED)
    return signed(
        SubLicenceFactory(
            reference="SL/25/3",
            sub_licensee=council,
            parent=parent,
            start_date=dt.date(2025, 4, 1),
            end_date=dt.date(2028, 3, 31),
        )
    )


def _rows() -> list[dict[str, str]]:
    return register_kind("sub-licences").snapshot(on=timezone.localdate()).rows


def _live(agreement: Agreement) -> tuple:
    agreement.refresh_from_db()
    return (agreement.title, agreement.end_date, agreement.data_level)


@pytest.mark.parametrize("role", ["partner", "officer"])
def test_an_edit_to_an_active_sub_licence_changes_nothing_until_another_person_approves(
    role, request, sub_licence, approver
) -> None:
    author = request.getfixturevalue(role)
    live_before, rows_before = _live(sub_licence), _rows()
    assert rows_before[0]["data_level"] == "Pseudonymised"

    amendment = services.amendment_propose(
        actor=author,
        agreement=sub_licence,
        fields={"data_level": DataLevel.ANONYMISED, "end_date": dt.date(2029, 3, 31)},
        reason="The council needs anonymised data only, for another year",
    )
    services.amendment_submit(actor=author, amendment=amendment)
    assert _live(sub_licence) == live_before
    assert _rows() == rows_before

    with pytest.raises(PermissionDenied, match="Only an IG approver can approve this amendment"):
        services.amendment_approve(actor=author, amendment=amendment)
    assert _live(sub_licence) == live_before

    services.amendment_approve(actor=approver, amendment=amendment, reason="IG board 3 November")
    assert _live(sub_licence)[1:] == (dt.date(2029, 3, 31), DataLevel.ANONYMISED)
    assert _rows()[0]["data_level"] == "Anonymised"
    amendment.refresh_from_db()
    assert (amendment.status, amendment.decided_by) == (Status.APPROVED, approver)

    event = AuditEvent.objects.filter(agreement=sub_licence, action=Action.AMENDMENT_APPROVED).get()
    assert event.actor == approver
    assert f"proposed by {author.username}" in event.reason
    assert "The council needs anonymised data only" in event.reason
    assert "IG board 3 November" in event.reason
    assert event.changes["Level of data shared"] == ["Pseudonymised", "Anonymised"]
    assert event.changes["End date"] == ["31 March 2028", "31 March 2029"]


def test_an_approver_cannot_approve_their_own_amendment(sub_licence, approver) -> None:
    amendment = services.amendment_propose(
        actor=approver, agreement=sub_licence, fields={"title": "Renamed"}, reason="Clearer title"
    )
    services.amendment_submit(actor=approver, amendment=amendment)
    with pytest.raises(ValidationError) as error:
        services.amendment_approve(actor=approver, amendment=amendment)
    assert error.value.messages == [
        "You cannot approve this amendment because you proposed it. Another approver must approve it."
    ]
    assert Amendment.objects.get().status == Status.SUBMITTED


def test_nobody_who_changed_the_amendment_may_approve_it_even_if_someone_edited_after(
    sub_licence, approver, other_approver, partner
) -> None:
    # The approver makes the substantive change, then the partner makes a small edit after: the approver was not
    # the last to edit, and still may not approve it.
    amendment = services.amendment_propose(
        actor=partner, agreement=sub_licence, fields={"title": "Small"}, reason="Tidy the title"
    )
    services.amendment_update(actor=approver, amendment=amendment, fields={"end_date": dt.date(2029, 1, 1)})
    services.amendment_update(actor=partner, amendment=amendment, fields={"title": "Smaller"})
    services.amendment_submit(actor=partner, amendment=amendment)
    with pytest.raises(ValidationError, match="because you changed it"):
        services.amendment_approve(actor=approver, amendment=amendment)
    services.amendment_approve(actor=other_approver, amendment=amendment)
    assert _live(sub_licence)[:2] == ("Smaller", dt.date(2029, 1, 1))


def test_an_approver_acting_for_the_partner_may_not_approve_its_amendment(
    sub_licence, council, partner, other_approver
) -> None:
    services.partner_contact_grant(actor=None, user=other_approver, organisation=council)
    amendment = services.amendment_propose(
        actor=partner, agreement=sub_licence, fields={"title": "New"}, reason="Renamed"
    )
    services.amendment_submit(actor=partner, amendment=amendment)
    with pytest.raises(ValidationError, match="because you act for Leicester City Council"):
        services.amendment_approve(actor=other_approver, amendment=amendment)


def test_a_chain_breaking_amendment_cannot_be_submitted_nor_approved(sub_licence, officer, approver) -> None:
    amendment = services.amendment_propose(
        actor=officer,
        agreement=sub_licence,
        fields={"end_date": dt.date(2031, 3, 31), "data_level": DataLevel.IDENTIFIABLE},
        reason="Longer and identifiable",
    )
    proposed = selectors.amendment_proposed_version(amendment=amendment)
    messages = selectors.violations_of(agreement=proposed).messages
    assert any("ends on 31 March 2031, after its parent" in m for m in messages)
    assert any("Identifiable data, which is more identifiable" in m for m in messages)
    with pytest.raises(ValidationError) as error:
        services.amendment_submit(actor=officer, amendment=amendment)
    assert all(message in " ".join(error.value.messages) for message in messages)

    # A version that kept to the chain when submitted is still checked at approval: here the parent changed since.
    services.amendment_update(
        actor=officer, amendment=amendment, fields={"end_date": dt.date(2029, 3, 31), "data_level": "anonymised"}
    )
    services.amendment_submit(actor=officer, amendment=amendment)
    Agreement.objects.filter(pk=sub_licence.parent_id).update(end_date=dt.date(2028, 12, 31))
    with pytest.raises(ValidationError, match="after its parent"):
        services.amendment_approve(actor=approver, amendment=amendment)
    assert _live(sub_licence)[1] == dt.date(2028, 3, 31)


def test_withdrawing_restores_nothing_because_nothing_changed(sub_licence, partner, officer) -> None:
    live_before, rows_before = _live(sub_licence), _rows()
    amendment = services.amendment_propose(
        actor=partner, agreement=sub_licence, fields={"title": "Withdrawn idea"}, reason="Trying"
    )
    services.amendment_withdraw(actor=partner, amendment=amendment, reason="Not needed")
    assert (_live(sub_licence), _rows()) == (live_before, rows_before)
    assert Amendment.objects.get().status == Status.WITHDRAWN
    # Withdrawn is closed: a new amendment may start, and only its author (or an approver) may withdraw it.
    again = services.amendment_propose(actor=officer, agreement=sub_licence, fields={"title": "x"}, reason="y")
    with pytest.raises(PermissionDenied):
        services.amendment_withdraw(actor=partner, amendment=again)
    assert selectors.amendment_open(agreement=sub_licence) == again


def test_two_concurrent_amendments_are_refused_not_merged(sub_licence, officer, partner) -> None:
    first = services.amendment_propose(actor=officer, agreement=sub_licence, fields={"title": "One"}, reason="a")
    with pytest.raises(ValidationError, match="already has an amendment in progress, started by officer"):
        services.amendment_propose(actor=partner, agreement=sub_licence, fields={"summary": "Two"}, reason="b")
    first.refresh_from_db()
    assert first.fields["summary"] == sub_licence.summary
    # The database refuses a second open amendment even to a caller that skips the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        Amendment.objects.create(agreement=sub_licence, author=partner, reason="b", status=Status.SUBMITTED)


def test_a_partner_proposes_only_to_its_own_agreements_and_only_partner_fields(sub_licence, partner) -> None:
    others = SubLicenceFactory()
    with pytest.raises(PermissionDenied):
        services.amendment_propose(actor=partner, agreement=others, fields={"title": "Mine now"}, reason="x")
    with pytest.raises(ValidationError) as error:
        services.amendment_propose(
            actor=partner,
            agreement=sub_licence,
            fields={"is_public": False, "parent": ParentAgreementFactory()},
            parties=[(OrganisationFactory(), "sub_licensee")],
            reason="x",
        )
    assert set(error.value.message_dict) == {"is_public", "parent", "parties"}
    assert not Amendment.objects.exists()
    with pytest.raises(PermissionDenied):
        services.amendment_propose(actor=partner, agreement=sub_licence, reason="x", kind=Amendment.Kind.TERMINATE)


def test_an_amendment_changes_parties_datasets_and_purposes_only_when_approved(sub_licence, officer, approver) -> None:
    dataset = DatasetFactory(name="Housing")
    sub_licence.parent.datasets.add(dataset)
    second = OrganisationFactory(name="Rutland County Council")
    council_party = sub_licence.parties.get()
    amendment = services.amendment_propose(
        actor=officer,
        agreement=sub_licence,
        fields={},
        parties=[(council_party.organisation, "sub_licensee"), (second, "sub_licensee")],
        datasets=[dataset],
        reason="Rutland joins",
    )
    services.amendment_submit(actor=officer, amendment=amendment)
    assert sub_licence.parties.count() == 1 and not sub_licence.datasets.exists()
    changes = services.amendment_changes(amendment=amendment)
    assert changes["Datasets"] == ["", "Housing"]
    services.amendment_approve(actor=approver, amendment=amendment)
    assert sub_licence.parties.count() == 2
    assert list(sub_licence.datasets.all()) == [dataset]
    assert _rows()[0]["organisation"] == "Leicester City Council; Rutland County Council"


def test_an_amendment_that_changes_nothing_is_refused(sub_licence, officer) -> None:
    with pytest.raises(ValidationError, match="changes nothing"):
        services.amendment_propose(
            actor=officer, agreement=sub_licence, fields={"title": sub_licence.title}, reason="x"
        )
    assert not Amendment.objects.exists()


def test_an_invalid_proposed_version_is_refused_at_the_field(sub_licence, officer) -> None:
    with pytest.raises(ValidationError) as error:
        services.amendment_propose(
            actor=officer, agreement=sub_licence, fields={"end_date": dt.date(2000, 1, 1)}, reason="x"
        )
    assert "end_date" in error.value.message_dict
    assert not Amendment.objects.exists()


def test_only_an_approved_agreement_is_amended(officer) -> None:
    draft = AgreementFactory(status=Agreement.Status.DRAFT)
    with pytest.raises(ValidationError, match="only an approved agreement is amended"):
        services.amendment_propose(actor=officer, agreement=draft, fields={"title": "x"}, reason="x")


def test_returned_amendment_can_be_changed_and_submitted_again(sub_licence, officer, approver) -> None:
    amendment = services.amendment_propose(actor=officer, agreement=sub_licence, fields={"title": "A"}, reason="x")
    services.amendment_submit(actor=officer, amendment=amendment)
    with pytest.raises(ValidationError):
        services.amendment_return(actor=approver, amendment=amendment, reason=" ")
    services.amendment_return(actor=approver, amendment=amendment, reason="Say which board agreed it")
    with pytest.raises(ValidationError, match="is returned, so it cannot be approved"):
        services.amendment_approve(actor=approver, amendment=amendment)
    services.amendment_update(actor=officer, amendment=amendment, fields={"title": "B"}, reason="Board of 3 Nov")
    services.amendment_submit(actor=officer, amendment=amendment)
    assert Amendment.objects.get().status == Status.SUBMITTED


# --- Changes to an active agreement outside amendments ---------------------------------------------------------


def test_agreement_update_no_longer_changes_an_active_agreement_live(sub_licence, officer) -> None:
    with pytest.raises(ValidationError, match="is an amendment that another person must approve"):
        services.agreement_update(
            actor=officer, agreement=sub_licence, fields={"end_date": dt.date(2031, 1, 1)}, reason="Longer"
        )
    assert _live(sub_licence)[1] == dt.date(2028, 3, 31)


def test_trivial_fields_of_an_active_agreement_change_directly(sub_licence, officer) -> None:
    services.agreement_update(
        actor=officer, agreement=sub_licence, fields={"owner": officer, "title": sub_licence.title}, reason="Handover"
    )
    sub_licence.refresh_from_db()
    assert sub_licence.owner == officer
    # The review date is published on the Information Sharing Register: not trivial.
    with pytest.raises(ValidationError, match="review date"):
        services.agreement_update(
            actor=officer, agreement=sub_licence, fields={"review_date": dt.date(2026, 6, 1)}, reason="Moved"
        )


def test_terminating_an_active_agreement_needs_a_second_person(sub_licence, approver, other_approver) -> None:
    with pytest.raises(ValidationError, match="only be terminated when another person approves a request"):
        services.agreement_terminate(actor=approver, agreement=sub_licence, reason="Partner withdrew")
    request = services.amendment_propose(
        actor=approver, agreement=sub_licence, reason="Partner withdrew", kind=Amendment.Kind.TERMINATE
    )
    assert request.status == Status.SUBMITTED
    with pytest.raises(ValidationError, match="you proposed it"):
        services.amendment_approve(actor=approver, amendment=request)
    services.amendment_approve(actor=other_approver, amendment=request)
    sub_licence.refresh_from_db()
    assert sub_licence.status == Agreement.Status.TERMINATED
    event = AuditEvent.objects.get(agreement=sub_licence, action=Action.TERMINATED)
    assert event.actor == other_approver and "proposed by approver: Partner withdrew" in event.reason


def test_superseding_an_active_agreement_needs_a_second_person(sub_licence, approver, other_approver) -> None:
    with pytest.raises(ValidationError, match="only be superseded when another person approves"):
        services.agreement_supersede(actor=approver, agreement=sub_licence, reason="Replaced by SL/26/1")
    replacement = SubLicenceFactory(reference="SL/26/1", parent=sub_licence.parent)
    request = services.agreement_supersede_request(
        actor=approver, agreement=sub_licence, superseded_by=replacement, reason="Replaced by SL/26/1"
    )
    services.amendment_approve(actor=other_approver, amendment=request)
    sub_licence.refresh_from_db()
    assert (sub_licence.status, sub_licence.superseded_by) == (Agreement.Status.SUPERSEDED, replacement)


def test_agreement_change_decides_between_a_live_change_and_an_amendment(sub_licence, officer) -> None:
    changed = services.agreement_change(
        actor=officer, agreement=sub_licence, fields={"owner": officer}, reason="Handover"
    )
    assert changed == sub_licence and not Amendment.objects.exists()
    amendment = services.agreement_change(
        actor=officer, agreement=sub_licence, fields={"title": "New", "owner": officer}, reason="x"
    )
    assert isinstance(amendment, Amendment) and _live(sub_licence)[0] != "New"
    again = services.agreement_change(actor=officer, agreement=sub_licence, fields={"title": "Newer"}, reason="y")
    assert again == amendment and Amendment.objects.get().fields["title"] == "Newer"
    draft = AgreementFactory(status=Agreement.Status.DRAFT)
    assert services.agreement_change(actor=officer, agreement=draft, fields={"title": "Direct"}) == draft


def test_for_a_new_agreement_too_anyone_who_changed_it_since_approval_may_not_approve(
    officer, approver, other_approver
) -> None:
    # The approver makes the substantive change, an officer edits after: the approver is no longer the last editor.
    agreement = signed(AgreementFactory(status=Agreement.Status.DRAFT, title="Draft"))
    services.agreement_update(actor=approver, agreement=agreement, fields={"end_date": dt.date(2029, 3, 31)})
    services.agreement_update(actor=officer, agreement=agreement, fields={"title": "Draft, tidied"})
    services.agreement_submit(actor=officer, agreement=agreement)
    with pytest.raises(ValidationError, match="because you changed it since it was last approved"):
        services.agreement_approve(actor=approver, agreement=agreement)
    services.agreement_approve(actor=other_approver, agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE


def test_the_amendment_steps_are_rows_of_the_workflow_table() -> None:
    steps = workflow.AMENDMENT_STEPS
    assert {name: (sorted(step.sources), step.target) for name, step in steps.items()} == {
        "submit": (["draft", "returned"], "submitted"),
        "return": (["submitted"], "returned"),
        "approve": (["submitted"], "approved"),
        "withdraw": (["draft", "returned", "submitted"], "withdrawn"),
    }
    assert [name for name, step in steps.items() if step.four_eyes] == ["approve"]
    assert workflow.STEPS[workflow.TERMINATE].by_request_from == {Agreement.Status.ACTIVE}


def test_the_owner_changed_live_while_an_amendment_is_open_is_not_put_back_by_approval(
    sub_licence, officer, approver, other_approver
) -> None:
    amendment = services.amendment_propose(
        actor=officer, agreement=sub_licence, fields={"end_date": dt.date(2027, 3, 31)}, reason="Shorter"
    )
    # The owner is a trivial field: it changes live at once, while the amendment is open.
    services.agreement_update(
        actor=approver, agreement=sub_licence, fields={"owner": other_approver}, reason="New owner"
    )
    amendment = services.amendment_update(actor=officer, amendment=amendment, fields={"title": "Council, shorter"})
    services.amendment_submit(actor=officer, amendment=amendment)
    amendment.refresh_from_db()
    assert "Owner" not in services.amendment_changes(amendment=amendment)
    services.amendment_approve(actor=approver, amendment=amendment)
    sub_licence.refresh_from_db()
    assert (sub_licence.owner, sub_licence.end_date, sub_licence.title) == (
        other_approver,
        dt.date(2027, 3, 31),
        "Council, shorter",
    )


def test_posting_the_owner_as_it_now_stands_does_not_pin_it_in_the_amendment(
    sub_licence, officer, approver, other_approver
) -> None:
    amendment = services.amendment_propose(
        actor=officer, agreement=sub_licence, fields={"end_date": dt.date(2027, 3, 31)}, reason="Shorter"
    )
    services.agreement_update(actor=approver, agreement=sub_licence, fields={"owner": approver}, reason="Owner")
    # The edit form posts every field: the owner as it stands now is no change of the amendment's.
    amendment = services.amendment_update(actor=officer, amendment=amendment, fields={"owner": approver})
    services.agreement_update(
        actor=approver, agreement=sub_licence, fields={"owner": other_approver}, reason="Owner again"
    )
    services.amendment_submit(actor=officer, amendment=amendment)
    services.amendment_approve(actor=approver, amendment=amendment)
    sub_licence.refresh_from_db()
    assert sub_licence.owner == other_approver


def _pdf(name: str = "signed v2.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import TINY_PDF

    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


def test_a_document_added_to_an_amendment_is_attached_only_when_it_is_approved(sub_licence, partner, approver) -> None:
    live_documents = set(sub_licence.documents.values_list("pk", flat=True))
    amendment = services.amendment_propose(
        actor=partner, agreement=sub_licence, fields={"title": "Council, re-signed"}, reason="Re-signed"
    )
    document = services.amendment_document_add(
        actor=partner, amendment=amendment, upload=_pdf(), title="Signed copy, version 2", kind="signed_copy"
    )
    assert document.agreement is None and document.amendment == amendment
    assert set(sub_licence.documents.values_list("pk", flat=True)) == live_documents
    assert amendment.contributors.filter(pk=partner.pk).exists()
    services.amendment_submit(actor=partner, amendment=amendment)
    with pytest.raises(ValidationError, match="so no document can be added to it"):
        services.amendment_document_add(actor=partner, amendment=amendment, upload=_pdf(), title="Late", kind="annex")
    services.amendment_approve(actor=approver, amendment=amendment)
    document.refresh_from_db()
    assert document.agreement == sub_licence
    assert set(sub_licence.documents.values_list("pk", flat=True)) == live_documents | {document.pk}
    event = AuditEvent.objects.filter(agreement=sub_licence, action=Action.AMENDMENT_APPROVED).get()
    assert event.changes["Documents added"] == ["", "Signed copy, version 2 (signed v2.pdf)"]


def test_a_withdrawn_amendments_document_is_never_attached(sub_licence, officer) -> None:
    amendment = services.amendment_propose(
        actor=officer, agreement=sub_licence, fields={"title": "Council, re-signed"}, reason="Re-signed"
    )
    document = services.amendment_document_add(
        actor=officer, amendment=amendment, upload=_pdf(), title="Annex", kind="annex"
    )
    services.amendment_withdraw(actor=officer, amendment=amendment)
    document.refresh_from_db()
    assert document.agreement is None
    assert not sub_licence.documents.filter(pk=document.pk).exists()


def test_the_proposed_versions_signed_copy_may_come_from_the_amendment(officer, approver) -> None:
    # An approved agreement recorded without a signed copy: its amendment is ready only once one is added.
    unsigned = AgreementFactory(reference="DSA-UNSIGNED")
    amendment = services.amendment_propose(
        actor=officer, agreement=unsigned, fields={"title": "Renamed"}, reason="Rename"
    )
    with pytest.raises(ValidationError, match="No signed copy is uploaded"):
        services.amendment_submit(actor=officer, amendment=amendment)
    services.amendment_document_add(
        actor=officer, amendment=amendment, upload=_pdf(), title="Signed copy", kind="signed_copy"
    )
    services.amendment_submit(actor=officer, amendment=amendment)
    assert not unsigned.documents.exists()
    services.amendment_approve(actor=approver, amendment=amendment)
    assert unsigned.documents.get().title == "Signed copy"


def test_superseding_is_a_request_naming_the_replacement_that_a_second_person_approves(
    officer, approver, other_approver
) -> None:
    old = AgreementFactory(reference="DSA-OLD")
    new = AgreementFactory(reference="DSA-NEW")
    draft = AgreementFactory(reference="DSA-DRAFT", status=Agreement.Status.DRAFT)
    processor_contract = AgreementFactory(reference="PC-1", kind=Agreement.Kind.PROCESSOR_CONTRACT)
    assert list(selectors.supersede_candidates(agreement=old)) == [new]
    for wrong in [old, draft, processor_contract]:
        with pytest.raises(ValidationError) as raised:
            services.agreement_supersede_request(actor=officer, agreement=old, superseded_by=wrong, reason="Replaced")
        assert raised.value.message_dict["superseded_by"] == [
            f"{wrong.reference} cannot replace DSA-OLD: the replacing agreement must be another data sharing "
            "agreement that is approved or active"
        ]
    with pytest.raises(ValidationError, match="Choose the agreement that replaces this one"):
        services.agreement_supersede_request(actor=officer, agreement=old, superseded_by=None, reason="Replaced")
    with pytest.raises(ValidationError, match="Enter why this agreement is being superseded"):
        services.agreement_supersede_request(actor=officer, agreement=old, superseded_by=new, reason=" ")

    request = services.agreement_supersede_request(
        actor=officer, agreement=old, superseded_by=new, reason="Replaced by the 2026 agreement"
    )
    old.refresh_from_db()
    assert (request.kind, request.status, old.status, old.superseded_by) == (
        Amendment.Kind.SUPERSEDE,
        Status.SUBMITTED,
        Agreement.Status.ACTIVE,
        None,
    )
    with pytest.raises(PermissionDenied, match="Only an IG approver can approve this amendment"):
        services.amendment_approve(actor=officer, amendment=request)
    services.amendment_approve(actor=approver, amendment=request, reason="Checked")
    old.refresh_from_db()
    assert (old.status, old.superseded_by) == (Agreement.Status.SUPERSEDED, new)
    event = AuditEvent.objects.get(agreement=old, action=Action.SUPERSEDED)
    assert event.actor == approver
    assert event.changes == {"Status": ["Active", "Superseded"], "Superseded by": ["", str(new)]}
    assert "proposed by officer: Replaced by the 2026 agreement" in event.reason


def test_an_approver_cannot_approve_their_own_request_to_supersede(approver, other_approver) -> None:
    old, new = AgreementFactory(), AgreementFactory()
    request = services.agreement_supersede_request(actor=approver, agreement=old, superseded_by=new, reason="New")
    with pytest.raises(ValidationError, match="because you proposed it"):
        services.amendment_approve(actor=approver, amendment=request)
    # The replacement ended meanwhile: approval checks it again.
    Agreement.objects.filter(pk=new.pk).update(status=Agreement.Status.TERMINATED)
    with pytest.raises(ValidationError, match="must be another data sharing agreement that is approved or active"):
        services.amendment_approve(actor=other_approver, amendment=request)
    old.refresh_from_db()
    assert (old.status, old.superseded_by) == (Agreement.Status.ACTIVE, None)


def test_a_partner_cannot_ask_for_supersession(sub_licence, partner) -> None:
    replacement = SubLicenceFactory(parent=sub_licence.parent)
    with pytest.raises(PermissionDenied):
        services.agreement_supersede_request(
            actor=partner, agreement=sub_licence, superseded_by=replacement, reason="New"
        )
