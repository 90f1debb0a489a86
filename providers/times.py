"""Reading the services' timestamps: ISO 8601 in UTC, with or without a zone or the ``T``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """A service's timestamp as UTC, e.g. ``2026-05-22T13:17:32.110Z`` or
    ``2026-05-22 13:19:23`` (no zone given: the services' clocks are UTC); None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def took(created: Any, completed: Any) -> float | None:
    """Seconds from a job's creation to its completion by the service's own timestamps; None
    when either is missing or unreadable."""
    start, end = parse_time(created), parse_time(completed)
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()
