"""The data-request demo is seed 003's story, dated as the seed dates it, and loads once."""

import datetime as dt

import pytest
from django.core.management import call_command

from agreements.models import Agreement
from datarequests.models import DataRequest, DataSharingGroup, Decision, Meeting, RequestEvent

pytestmark = pytest.mark.django_db
D = dt.date


def _counts() -> tuple[int, ...]:
    return (DataRequest.objects.count(), RequestEvent.objects.count(), Meeting.objects.count(),
            Decision.objects.count())  # fmt: skip


def test_the_story_of_seed_003_loads_once(settings) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    first = _counts()
    call_command("load_demo")
    assert _counts() == first

    consortium = DataRequest.objects.get(reference="DR/25/1")
    assert consortium.received_on == D(2025, 4, 8) and consortium.channel == "letter"
    assert consortium.raised_at is not None and consortium.raised_at.held_on == D(2025, 3, 6)
    assert consortium.requesters.count() == 8  # the seven districts and Rutland
    assert consortium.line_items.count() == 12
    assert consortium.status == DataRequest.Status.CLOSED
    hold = consortium.events.get(kind=RequestEvent.Kind.HELD)
    assert "after the County Council elections" in hold.note

    group = DataSharingGroup.objects.get()
    assert group.members.count() == 10 and group.chair.name == "Blaby District Council"
    held = list(group.meetings.values_list("held_on", flat=True))
    assert held[0].month == 7 and held[-1] == D(2025, 9, 23)

    public = Decision.objects.filter(outcome=Decision.Outcome.PUBLICLY_AVAILABLE)
    assert public.exists() and all(d.public_link for d in public)
    isa = Agreement.objects.get(reference="ISA-LLR-DSG-2025")
    assert isa.status == Agreement.Status.ACTIVE and isa.parties.count() == 10
    fulfilled = consortium.line_items.filter(fulfilled_on__isnull=False)
    assert fulfilled.exists() and all(item.geography for item in fulfilled)
    assert set(isa.line_items_served.values_list("request__reference", flat=True)) == {"DR/25/1"}

    postcodes = DataRequest.objects.get(reference="DR/25/2")
    assert postcodes.status == DataRequest.Status.LAPSED
    assert (
        postcodes.events.get(kind=RequestEvent.Kind.LAPSED).note == "lapsed: rationale queried 2025-10-01, no response"
    )
