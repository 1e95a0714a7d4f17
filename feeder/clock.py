"""The one place feeder reads the wall clock, so that tests can freeze it.

Every datetime in feeder is timezone-aware. Scheduling and storage work in UTC; article times keep
the offset they were published with.
"""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time in UTC (or the frozen time in tests)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Make :func:`now` return ``at`` (aware) until called again with ``None``."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at
