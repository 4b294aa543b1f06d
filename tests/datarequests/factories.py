"""Helpers that build data requests through the services, as the staff pages do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from datarequests import services
from datarequests.models import DataRequest, Decision, LineItem


def make_request(actor: Any, responder: Any, requesters: list[Any], *, received_on: dt.date = dt.date(2025, 4, 8),
                 **fields: Any) -> DataRequest:  # fmt: skip
    values = {
        "title": "Information in 12 categories for each district area",
        "responder": responder,
        "channel": DataRequest.Channel.LETTER,
        "received_on": received_on,
        "contact_name": "Chief Executive, Blaby District Council",
        **fields,
    }
    return services.request_create(actor=actor, fields=values, requesters=requesters)


def add_item(
    actor: Any, request: DataRequest, category: str = LineItem.Category.NON_PERSONAL, **fields: Any
) -> LineItem:
    values: dict[str, Any] = {
        "description": "Population by age band",
        "geography": "MSOA",
        "period": "2024-25",
        "data_category": category,
        "purpose": "Local government reorganisation proposals",
        **fields,
    }
    if category != LineItem.Category.NON_PERSONAL:
        values.setdefault("article_6_basis", "6_1_e")
    if category == LineItem.Category.SPECIAL:
        values.setdefault("article_9_condition", "9_2_g")
    return services.line_item_add(actor=actor, request=request, fields=values)


def decide(actor: Any, item: LineItem, outcome: str = Decision.Outcome.APPROVED, on: dt.date | None = None,
           **kwargs: Any) -> Decision:  # fmt: skip
    return services.decision_propose(
        actor=actor, item=item, outcome=outcome, rationale="Needed for the proposals", decided_on=on, **kwargs
    )
