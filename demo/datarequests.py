"""The data-request log's demo: the story of shared/seeds/003_*, dated as the seed dates it.

Leicestershire County Council, accused of being uncooperative about data sharing, rebuilt its timeline by hand.
Here it is as the log would have kept it: the leaders' meeting of 6 March 2025 where the districts and Rutland were
invited to send their request; their letter of 8 April listing 12 categories for each district area; the reply
asking what exactly was wanted; the wait until after the elections; the data sharing group of ten councils chaired
by Blaby District Council, meeting from July to its last meeting on 23 September 2025; data shared at MSOA level
under an information sharing agreement signed by each party; some categories already publicly available; and the
last request, for the home postcodes of every County Council employee, whose rationale was queried on 1 October
2025 and never answered, so that it lapsed.

Dates the seed gives are used as given. Where it gives only a month ("early June", "July to September"), a day in
that month is chosen; those are marked "illustrative" below. Everything goes through the services, as a person
would record it, so the demo has the same history a real log would. It needs the demo accounts (two people: an
officer and an approver, for four eyes), so it loads only with them. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agreements import rules
from agreements import services as agreement_services
from agreements.models import Agreement, DataLevel, Organisation, Party
from datarequests import services
from datarequests.models import DataRequest, Decision, LineItem, Meeting
from demo import documents
from demo.documents import in_force_until

REASON = "Demo data (seed 003)"
D = dt.date
COUNTY_ODS = "E10000018"
CITY_ODS = "509"
BLABY_ODS = "E07000129"
# The district councils of Leicestershire and Rutland, by their ONS (GSS) codes, which fit the ODS code format.
DISTRICTS = [
    ("Blaby District Council", BLABY_ODS),
    ("Charnwood Borough Council", "E07000130"),
    ("Harborough District Council", "E07000131"),
    ("Hinckley and Bosworth Borough Council", "E07000132"),
    ("Melton Borough Council", "E07000133"),
    ("North West Leicestershire District Council", "E07000134"),
    ("Oadby and Wigston Borough Council", "E07000135"),
]
RUTLAND = ("Rutland County Council", "E06000017")
COUNTY = ("Leicestershire County Council", COUNTY_ODS)
ISA_REFERENCE = "ISA-LLR-DSG-2025"
GROUP_NAME = "LLR local government reorganisation data sharing group"
FIRST_MEETING_TITLE = "Leaders' meeting hosted by the Acting Leader of the County Council"

LSR = "https://www.lsr-online.org/"
# The 12 categories of the letter of 8 April 2025, each for each district area, and what was decided on each.
CATEGORIES: list[dict[str, Any]] = [
    {
        "description": "Population estimates and projections by age",
        "public": "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates",
    },
    {
        "description": "Indices of deprivation",
        "public": "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
    },
    {
        "description": "Public health outcomes (life expectancy, obesity, smoking)",
        "public": "https://fingertips.phe.org.uk/profile/public-health-outcomes-framework",
    },
    {"description": "School places and pupil numbers", "public": LSR},
    {"description": "Adult social care: people supported and spend", "conditions": True},
    {"description": "Children's social care: children in need and looked after", "conditions": True},
    {"description": "Special educational needs and disabilities: plans and spend", "conditions": True},
    {"description": "Home to school transport: routes and spend", "conditions": True},
    {"description": "Highways: network length, condition and maintenance spend", "conditions": True},
    {"description": "Waste disposal: tonnages and costs", "conditions": True},
    {"description": "Libraries, heritage and community services: sites and use", "public": LSR},
    {"description": "County Council property and assets in each district", "conditions": True},
]
CONDITIONS = (
    "Shared as aggregates at middle layer super output area (MSOA) level (about 7,500 people), from the same "
    "sources and periods for every council, through the County Council's secure data repository, under the "
    "information sharing agreement signed by each party."
)

# (date, title, decisions, [(action, owner, due)]). The seed dates the last meeting, 23 September 2025; the
# others fall "from July to September" and are illustrative.
GROUP_MEETINGS: list[tuple[dt.date, str, str, list[tuple[str, str, dt.date]]]] = [
    (D(2025, 7, 17), "Data sharing group: first meeting",
     "Terms of reference agreed. Requests from the different councils to be coordinated, using consistent data "
     "sources and time periods.",
     [("Map each of the 12 categories to a source and period", "Leicestershire County Council", D(2025, 7, 31))]),
    (D(2025, 8, 14), "Data sharing group",
     "Data to be shared at MSOA level through the County Council's secure online data repository. An information "
     "sharing agreement to be signed by each party.",
     [("Circulate the information sharing agreement for signature", "Leicestershire County Council",
       D(2025, 8, 22))]),
    (D(2025, 9, 11), "Data sharing group", "Datasets loaded to the repository; councils to confirm access.", []),
    (D(2025, 9, 23), "Data sharing group: last meeting",
     "Agreed that future meeting dates remain in diaries for a period of time, but take place only if needed.", []),
]  # fmt: skip


def _organisation(name: str, ods_code: str, officer: User) -> Organisation:
    existing = Organisation.objects.filter(ods_code=ods_code).first()
    if existing:
        return existing
    return agreement_services.organisation_create(
        actor=officer,
        fields={
            "name": name,
            "ods_code": ods_code,
            "kind": Organisation.Kind.LOCAL_AUTHORITY,
            "dspt_status": Organisation.DsptStatus.MET,
            "dspt_assessment_year": rules.dspt_year(timezone.localdate()),
        },
        reason=REASON,
    )


def _step(officer: User, request: DataRequest, action: str, on: dt.date, reason: str = "", **kwargs: Any) -> None:
    services.request_transition(actor=officer, request=request, action=action, on=on, reason=reason, **kwargs)


@transaction.atomic
def load_demo_requests() -> None:
    """Load the story once the demo accounts exist (demo.agreements.load_demo makes them, with DEBUG on)."""
    users = {u.username: u for u in User.objects.filter(username__in=["ig-officer", "ig-approver", "blaby-partner"])}
    officer, approver = users.get("ig-officer"), users.get("ig-approver")
    if officer is None or approver is None:
        return
    if Meeting.objects.filter(title=FIRST_MEETING_TITLE).exists():
        return
    county = _organisation(*COUNTY, officer)
    city = Organisation.objects.get(ods_code=CITY_ODS)
    rutland = _organisation(*RUTLAND, officer)
    districts = [_organisation(name, code, officer) for name, code in DISTRICTS]
    blaby = districts[0]
    requesters = [*districts, rutland]
    if partner := users.get("blaby-partner"):
        agreement_services.partner_contact_grant(actor=None, user=partner, organisation=blaby, reason=REASON)
    services.response_targets_set(
        actor=officer, organisation=county, acknowledge_days=5, decide_days=20, lapse_after_days=28, reason=REASON
    )

    invitation = services.meeting_record(
        actor=officer,
        title=FIRST_MEETING_TITLE,
        held_on=D(2025, 3, 6),
        attendees="Acting Leader of Leicestershire County Council\nLeaders of the district councils\nLeader of "
        "Rutland County Council",
        organisations=[county, *requesters],
        decisions="The Acting Leader invited the district councils and Rutland to send the County Council their "
        "specific data request. The Leader of Rutland suggested a data sharing protocol like Lincolnshire's.",
        reason=REASON,
    )
    services.meeting_action_add(
        actor=officer, meeting=invitation, description="Send the County Council a copy of the Lincolnshire data "
        "sharing protocol (not received; the County Council obtained it from Lincolnshire County Council)",
        owner="Leader of Rutland County Council", due_on=D(2025, 3, 13),
    )  # fmt: skip

    request = services.request_create(
        actor=officer,
        fields={
            "title": "Information in 12 categories for each district area",
            "summary": "Letter on behalf of the district councils and Rutland, received by the Acting Leader, "
            "listing the information requested in 12 categories for each district area.",
            "responder": county,
            "channel": DataRequest.Channel.LETTER,
            "received_on": D(2025, 4, 8),
            "raised_at": invitation,
            "contact_name": "Chief Executive, Blaby District Council (for the district councils and Rutland)",
            "handler": officer,
        },
        requesters=requesters,
        reason=REASON,
    )
    items = [
        services.line_item_add(
            actor=officer,
            request=request,
            fields={
                "description": category["description"],
                "geography": "District",
                "period": "Latest available",
                "data_category": LineItem.Category.NON_PERSONAL,
                "purpose": "Proposals for local government reorganisation in Leicester, Leicestershire and Rutland",
                "necessity": "To compare options for new unitary councils on the same evidence.",
            },
            reason=REASON,
        )
        for category in CATEGORIES
    ]
    _step(officer, request, "request_clarification", D(2025, 4, 17),
          "Detailed reply sent. Some categories are not clear: please clarify exactly what information is wanted.",
          topic="scope")  # illustrative day  # fmt: skip
    _step(officer, request, "answer_clarification", D(2025, 4, 24),
          "The districts asked for a further breakdown of the information.")  # illustrative day  # fmt: skip
    _step(officer, request, "hold", D(2025, 4, 24),
          "The requesters are content to wait until after the County Council elections and MHCLG's response to "
          "the interim plans", resume_on=D(2025, 6, 2))  # fmt: skip
    _step(officer, request, "resume", D(2025, 6, 5), "MHCLG's response to the interim plans received, after a "
          "delay, in early June.")  # illustrative day  # fmt: skip
    _step(officer, request, "request_clarification", D(2025, 6, 9), "Which breakdown, sources and periods are "
          "wanted for each category?", topic="breakdown")  # illustrative day  # fmt: skip
    _step(officer, request, "answer_clarification", D(2025, 7, 3), "It was finally clear what data the "
          "district councils and Rutland wanted.")  # "early July"  # fmt: skip
    _step(officer, request, "assess", D(2025, 7, 4))

    group = services.group_create(
        actor=officer,
        name=GROUP_NAME,
        chair=blaby,
        members=[county, city, *requesters],
        terms_of_reference_url="https://www.leicestershire.gov.uk/",
        reason=REASON,
    )
    meetings = []
    for held_on, title, decisions, actions in GROUP_MEETINGS:
        meeting = services.meeting_record(
            actor=officer, title=title, held_on=held_on, group=group, decisions=decisions,
            attendees="Chief Executive, Blaby District Council (chair)\nRepresentatives of Leicestershire County "
            "Council, Leicester City Council, Rutland County Council and the seven district councils",
            organisations=[county, city, *requesters], requests_discussed=[request], reason=REASON,
        )  # fmt: skip
        for description, owner, due_on in actions:
            services.meeting_action_add(actor=officer, meeting=meeting, description=description, owner=owner,
                                        due_on=due_on)  # fmt: skip
        meetings.append(meeting)

    for item, category in zip(items, CATEGORIES, strict=True):
        if "public" in category:
            services.decision_propose(
                actor=officer, item=item, outcome=Decision.Outcome.PUBLICLY_AVAILABLE, decided_on=D(2025, 7, 25),
                public_link=category["public"], rationale="Already published; the link was sent to the group.",
            )  # fmt: skip
        else:
            services.decision_propose(
                actor=officer, item=item, outcome=Decision.Outcome.APPROVED_WITH_CONDITIONS,
                decided_on=D(2025, 7, 25), conditions=CONDITIONS,
                rationale="Needed by every council to assess the reorganisation options on the same evidence.",
            )  # fmt: skip
    _step(officer, request, "decide", D(2025, 7, 25), "Decisions on all 12 categories sent to the group.")
    _step(officer, request, "await_agreement", D(2025, 7, 25), "Waiting for the information sharing agreement.")

    isa = Agreement.objects.filter(reference=ISA_REFERENCE).first()
    if isa is None:
        isa = agreement_services.agreement_create(
            actor=officer,
            fields={
                "kind": Agreement.Kind.ISA,
                "reference": ISA_REFERENCE,
                "title": "Data sharing for local government reorganisation in Leicester, Leicestershire and Rutland",
                "summary": "The ten councils share aggregate data, mostly at middle layer super output area level, "
                "through the County Council's secure online data repository.",
                "start_date": D(2025, 8, 29),
                "end_date": in_force_until(D(2027, 3, 31)),
                "data_level": DataLevel.AGGREGATE,
                "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                "opt_out": Agreement.OptOut.NOT_APPLICABLE,
                "opt_out_reason": "Aggregate data about places, not about people.",
                "is_public": False,
            },
            parties=[(county, Party.Role.PROVIDER), *[(o, Party.Role.RECIPIENT) for o in [city, *requesters]]],
            reason=REASON,
        )
        documents.approve(officer=officer, approver=approver, agreement=isa)
        isa.refresh_from_db()
    for item, category in zip(items, CATEGORIES, strict=True):
        if "conditions" in category:
            services.line_item_fulfil(actor=officer, item=item, agreements=[isa], on=D(2025, 9, 10),
                                      reason="Loaded to the secure data repository at MSOA level")  # fmt: skip
    _step(officer, request, "fulfil", D(2025, 9, 10))
    _step(officer, request, "close", D(2025, 9, 23), "Closed at the group's last meeting.")

    postcodes = services.request_create(
        actor=officer,
        fields={
            "title": "Home postcodes of all County Council employees",
            "responder": county,
            "channel": DataRequest.Channel.EMAIL,
            "received_on": D(2025, 9, 29),  # "following the last meeting": illustrative day
            "contact_name": "District councils (officer e-mail)",
            "handler": officer,
        },
        requesters=districts,
        reason=REASON,
    )
    services.line_item_add(
        actor=officer,
        request=postcodes,
        fields={
            "description": "Home postcode of every County Council employee",
            "geography": "Postcode",
            "data_category": LineItem.Category.PERSONAL,
            "dpia_needed": True,
        },
        reason=REASON,
    )
    _step(officer, postcodes, "request_clarification", D(2025, 10, 1),
          "The rationale is queried: the request would have to be considered under the UK GDPR.",
          topic="rationale")  # fmt: skip
    # Lapses 28 days later, as the daily task would have done: "lapsed: rationale queried 2025-10-01, no response".
    services.requests_lapse()
