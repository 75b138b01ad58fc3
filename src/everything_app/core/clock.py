"""The clock and time zones, one way for every feature: features reason in the user's (or a
service's) time zone and store instants in UTC.

- `Now`: the current instant as a FastAPI dependency; tests override `current_time` once to
  fix the clock for every feature.
- `zone_named`: an IANA zone name to a `ZoneInfo`; `TimeZoneName` validates one in a body and
  `TimeZoneQuery` reads the optional `tz` query parameter. Every unknown zone is the same
  error: 422, type/code `invalid_timezone`.
- `day_bounds`/`month_bounds`: the instants a local day (or days, or month) starts and ends,
  daylight-saving aware (a day is 23 or 25 hours long when the clocks change).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Depends, Query
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from everything_app.core.db import utcnow
from everything_app.core.errors import ValidationFailed

__all__ = [
    "MAX_ZONE_NAME",
    "Now",
    "TimeZoneName",
    "TimeZoneQuery",
    "as_zone",
    "current_time",
    "day_bounds",
    "local_midnight",
    "month_bounds",
    "zone_named",
]

MAX_ZONE_NAME = 64
INVALID_TIMEZONE = "invalid_timezone"
_ZONE_HELP = "IANA time zone, e.g. Europe/Paris."


async def current_time() -> datetime:
    """Now, for every rule that depends on it. Tests override this dependency with a fixed
    clock, so nothing time-dependent needs sleeping or the wall clock."""
    return utcnow()


Now = Annotated[datetime, Depends(current_time)]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Reading the zone directory takes milliseconds: once per process. Only listed names are
    # opened, so a name can never reach the file system as a path ("../../etc/passwd").
    return frozenset(available_timezones())


def _message(name: str) -> str:
    return f"Unknown time zone {name[:MAX_ZONE_NAME]!r}; use an IANA name such as Europe/Paris."


def zone_named(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Paris; ValueError for anything else."""
    if name not in _known_zones():
        raise ValueError(_message(name))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed, unreadable
        raise ValueError(_message(name)) from exc


def as_zone(value: ZoneInfo | str) -> ZoneInfo:
    """`value` if it is already a zone, else the zone it names (ValueError when unknown)."""
    return value if isinstance(value, ZoneInfo) else zone_named(value)


def _check_zone_name(name: str) -> str:
    try:
        zone_named(name)
    except ValueError:
        raise PydanticCustomError(INVALID_TIMEZONE, _message(name)) from None
    return name


TimeZoneName = Annotated[
    str,
    Field(max_length=MAX_ZONE_NAME, description=_ZONE_HELP),
    AfterValidator(_check_zone_name),
]
"""A time zone in a request body: an unknown name is a 422 whose detail type is
`invalid_timezone`."""


async def _timezone_query(
    tz: Annotated[
        str | None,
        Query(max_length=MAX_ZONE_NAME, description="IANA time zone, e.g. Europe/Paris."),
    ] = None,
) -> ZoneInfo | None:
    if tz is None:
        return None
    try:
        return zone_named(tz)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code=INVALID_TIMEZONE) from None


TimeZoneQuery = Annotated[ZoneInfo | None, Depends(_timezone_query)]
"""The optional `tz` query parameter: None when absent, 422 `invalid_timezone` when unknown."""


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` starts in `zone`, with that moment's UTC offset (2030-10-27T00:00+02:00
    in Paris): it reads as the user's calendar does, and, being a fixed offset rather than
    the zone, subtracts as instants do (Python subtracts two datetimes sharing one `ZoneInfo`
    as wall-clock times, which makes a 25-hour day last 24)."""
    local = datetime.combine(day, time(), tzinfo=zone)
    offset = local.utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return local.astimezone(timezone(offset))


def day_bounds(day: date, zone: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of `days` local calendar days from `day`."""
    return local_midnight(day, zone), local_midnight(day + timedelta(days=days), zone)


def month_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar month holding `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, zone), local_midnight(following, zone)
