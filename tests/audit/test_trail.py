"""The one audit trail: any record of any app, append-only, readable after the record is gone."""

import pytest

from audit.models import AppendOnlyError, AuditEvent
from audit.selectors import audit_events_for
from audit.services import Action, audit_record
from tests.factories import AgreementFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_records_of_any_kind_keep_their_own_history_with_the_label_they_had() -> None:
    actor = UserFactory(username="ig-officer")
    agreement, organisation = AgreementFactory(reference="DSA-1", title="Housing data"), OrganisationFactory()
    audit_record(actor=actor, action=Action.UPDATED, subject=agreement, reason="Typo", changes={"Title": ["a", "b"]})
    audit_record(actor=None, action=Action.CREATED, subject=organisation, ip_address="192.0.2.7")
    [event] = audit_events_for(subject=agreement)
    assert (event.subject, event.subject_label, event.actor_name) == (agreement, "DSA-1: Housing data", "ig-officer")
    assert list(AuditEvent.objects.filter(agreement=agreement)) == [event]
    [other] = audit_events_for(subject=organisation)
    assert (other.actor_name, other.ip_address) == ("System", "192.0.2.7")


def test_audit_rows_are_append_only() -> None:
    event = audit_record(actor=None, action=Action.CREATED, subject=OrganisationFactory())
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.reason == ""
