"""How every page, e-mail, file and history entry shows a date: "22 October 2025" (GOV.UK and NHS.UK style)."""

from __future__ import annotations

import datetime as dt


def format_date(value: dt.date | None) -> str:
    """22 October 2025; an empty string for no date."""
    return f"{value.day} {value:%B %Y}" if value else ""
