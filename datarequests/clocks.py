"""Working-day clocks for data requests, on England and Wales working days.

Bank holidays come from the `holidays` library (subdivision ENG; Wales has the same bank holidays), never a typed
list. A request's clock counts working days after the day it was received (the day of receipt is day 0, as the
ICO counts FOI and subject access deadlines), and stops while the request waits on the requester: from the day
after a clarification is asked (or a hold starts) up to and including the day it is answered (or resumed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import holidays

from datarequests.models import DataRequest, RequestEvent

Kind = RequestEvent.Kind
_PAUSE_STARTS = {Kind.CLARIFICATION_REQUESTED, Kind.HELD}
_PAUSE_ENDS = {Kind.CLARIFICATION_ANSWERED, Kind.RESUMED, Kind.WITHDRAWN, Kind.LAPSED}
_ENDS = {Kind.CLOSED, Kind.WITHDRAWN, Kind.LAPSED, Kind.FULFILLED}


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count


@dataclass(frozen=True)
class Pause:
    start: dt.date
    # None while the request still waits on the requester.
    end: dt.date | None
    kind: str


@dataclass(frozen=True)
class Target:
    name: str
    days: int
    # The day the target falls due if nothing pauses the clock again; None while paused.
    due_on: dt.date | None
    met_on: dt.date | None
    # Working days on the clock when it was met, or now.
    used: int

    @property
    def missed(self) -> bool:
        return self.used > self.days

    @property
    def remaining(self) -> int:
        return self.days - self.used


@dataclass(frozen=True)
class Clock:
    received_on: dt.date
    until: dt.date
    days_open: int
    days_waiting_on_us: int
    days_waiting_on_requester: int
    paused: bool
    acknowledge: Target
    decide: Target

    @property
    def target_missed(self) -> bool:
        return self.acknowledge.missed or self.decide.missed


def pauses(events: Iterable[RequestEvent]) -> list[Pause]:
    result: list[Pause] = []
    open_start: tuple[dt.date, str] | None = None
    for event in events:
        if event.kind in _PAUSE_STARTS and open_start is None:
            open_start = (event.on, event.kind)
        elif event.kind in _PAUSE_ENDS and open_start is not None:
            result.append(Pause(open_start[0], event.on, open_start[1]))
            open_start = None
    if open_start is not None:
        result.append(Pause(open_start[0], None, open_start[1]))
    return result


def _paused_days(pause_list: Sequence[Pause], start: dt.date, end: dt.date) -> int:
    total = 0
    for pause in pause_list:
        pause_end = min(pause.end or end, end)
        pause_start = max(pause.start, start)
        total += working_days_between(pause_start, pause_end)
    return total


def clock_days(received_on: dt.date, on: dt.date, pause_list: Sequence[Pause]) -> int:
    """Working days on the team's clock from receipt to `on`, pauses left out."""
    return working_days_between(received_on, on) - _paused_days(pause_list, received_on, on)


def due_date(received_on: dt.date, days: int, pause_list: Sequence[Pause]) -> dt.date | None:
    """The working day on which the clock reaches `days`; None while a pause is open (it cannot be known)."""
    if any(p.end is None for p in pause_list):
        return None
    paused = set()
    for pause in pause_list:
        assert pause.end is not None
        day = pause.start + dt.timedelta(days=1)
        while day <= pause.end:
            paused.add(day)
            day += dt.timedelta(days=1)
    counted, day = 0, received_on
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day) and day not in paused:
            counted += 1
    return day


def _first(events: Sequence[RequestEvent], kinds: set[str]) -> dt.date | None:
    return next((e.on for e in events if e.kind in kinds), None)


def request_clock(
    request: DataRequest,
    *,
    today: dt.date,
    events: Sequence[RequestEvent] | None = None,
    acknowledge_days: int,
    decide_days: int,
) -> Clock:
    """The clock of one request as of `today` (or as of the day it ended)."""
    events = list(events if events is not None else request.events.all())
    ended_on = next((e.on for e in reversed(events) if e.kind in _ENDS), None)
    still_open = request.status not in {"closed", "withdrawn", "lapsed", "fulfilled"}
    until = today if still_open or ended_on is None else ended_on
    pause_list = pauses(events)
    received = request.received_on
    days_open = working_days_between(received, until)
    waiting_on_requester = _paused_days(pause_list, received, until)
    # A reopen after an end starts no second decision target; the first is what the requester experienced.
    # A reply asking for clarification answers the requester too, so it meets the acknowledgement target.
    acknowledged_on = _first(events, {Kind.ACKNOWLEDGED, Kind.CLARIFICATION_REQUESTED})
    decided_on = _first(events, {Kind.DECIDED})

    def target(name: str, days: int, met_on: dt.date | None) -> Target:
        used = clock_days(received, met_on or until, pause_list)
        return Target(name, days, due_date(received, days, pause_list), met_on, used)

    paused = request.status in {"clarification", "on_hold"}
    return Clock(
        received_on=received,
        until=until,
        days_open=days_open,
        days_waiting_on_us=days_open - waiting_on_requester,
        days_waiting_on_requester=waiting_on_requester,
        paused=paused,
        acknowledge=target("Acknowledgement", acknowledge_days, acknowledged_on),
        decide=target("Decision", decide_days, decided_on),
    )
