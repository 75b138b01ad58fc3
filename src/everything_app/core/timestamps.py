"""The one timestamp type of the API: what it accepts, and how every instant is written out.

Accepted: ISO 8601 date-times between `MIN_INSTANT` and `MAX_INSTANT` (UTC), that
is years 1900 to 8999. The range is far inside what PostgreSQL, SQLite and Python's datetime
arithmetic can hold, so adding a day, a month or a time zone's offset to an accepted value can
never overflow (Python's datetime ends at 9999-12-31, and `0001-01-01T00:00:00+14:00` is
before it begins once read in UTC). Anything outside is a 422 naming the field, never a 500.

Written out: always in UTC with a `Z`, `2026-11-23T11:30:00Z`, with microseconds when there
are any (`2026-11-23T11:30:00.250000Z`): the form pydantic writes for a UTC instant, which
JavaScript's `Date` and better-auth clients parse, and precise to the microsecond, so a value
sent back (as `before=`, for instance) names the very same instant. Never `+00:00`, never
another offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, WithJsonSchema

MIN_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(9000, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
MIN_DAY = MIN_INSTANT.date()
MAX_DAY = MAX_INSTANT.date()
RANGE_TEXT = f"between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()} (UTC)"


def format_instant(value: datetime) -> str:
    """The API's one written form of an instant (a naive value is taken as UTC)."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_range(value: datetime) -> datetime:
    """`value` in UTC; ValueError when it is outside the accepted range. A naive value is
    read as UTC. The wall-clock year is checked first: converting year 1 or 9999 with an
    offset is what would overflow."""
    if not MIN_DAY.year <= value.year <= MAX_DAY.year:
        raise ValueError(f"the time must be {RANGE_TEXT}")
    utc = as_utc(value)
    if not MIN_INSTANT <= utc <= MAX_INSTANT:
        raise ValueError(f"the time must be {RANGE_TEXT}")
    return utc


def local_in_range(value: datetime) -> datetime:
    """A wall-clock time that may still be read in some time zone (a naive value is kept
    naive): within the range on its own fields, so any offset applied later is safe."""
    if value.tzinfo is not None:
        return in_range(value)
    if not MIN_DAY.year <= value.year <= MAX_DAY.year:
        raise ValueError(f"the time must be {RANGE_TEXT}")
    return value


def day_in_range(value: date) -> date:
    if not MIN_DAY <= value <= MAX_DAY:
        raise ValueError(f"the date must be {RANGE_TEXT}")
    return value


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset (`Z` or `+01:00`) in the range, in UTC;
    ValueError for anything else (naive included)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("the time needs an offset (e.g. 2026-01-01T12:00:00Z)")
    return in_range(moment)


def _naive_as_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time"})
# Written out by pydantic-core itself: every type below is validated to an aware UTC value,
# and pydantic-core writes one as `format_instant` does (`Z`, microseconds only when there are
# any), in Rust rather than a Python serializer called per field (a tenth of a list's time).
_WRITTEN = AfterValidator(as_utc)

# Input: an aware date-time in the range (naive is a 422), normalised to UTC.
Timestamp = Annotated[AwareDatetime, AfterValidator(in_range), _WRITTEN, _SCHEMA]
# Input where the API has always read a zone-less time as UTC (`/api/usage`).
UtcTimestamp = Annotated[
    datetime, AfterValidator(_naive_as_utc), AfterValidator(in_range), _WRITTEN, _SCHEMA
]
# Input read later in the user's time zone when it has no offset (the planner's tools).
LocalTimestamp = Annotated[datetime, AfterValidator(local_in_range), _SCHEMA]
# A calendar date in the range (read with a time zone, it stays a valid instant).
Day = Annotated[date, AfterValidator(day_in_range)]
# Output: any instant the API answers with; never range-checked (stored rows are what they
# are), always written in the one form above.
Instant = Annotated[datetime, _WRITTEN, _SCHEMA]
