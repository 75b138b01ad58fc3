"""Time zones, local days and the clock: one of each for the whole app.

- `zone_named`: an IANA time zone (Europe/Paris) or `InvalidTimezone`, a 422
  `invalid_timezone` (in a request body: a 422 validation error naming the field, as
  `TimezoneName` fields check it). Only names the zone database lists are read, so no name
  reaches the file system.
- `local_midnight`, `day_bounds`, `month_bounds`: where local days and months start, as
  aware datetimes in the zone (so wall-clock arithmetic on them stays local; a DST day is
  23 or 25 hours between its bounds as instants).
- `Now`: the current instant as a dependency, which tests override with a fixed clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Depends
from pydantic import AfterValidator, Field

from everything_app.core.db import utcnow
from everything_app.core.errors import ValidationFailed

MAX_ZONE_NAME = 64


class InvalidTimezone(ValidationFailed, ValueError):
    """Also a ValueError, so that a pydantic validator reports it as the field's error."""

    code = "invalid_timezone"


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Reading the zone directory takes milliseconds: once per process.
    return frozenset(available_timezones())


def zone_named(name: str | ZoneInfo) -> ZoneInfo:
    """The IANA time zone `name`; InvalidTimezone for anything else."""
    if isinstance(name, ZoneInfo):
        return name
    if name in _known_zones():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unreadable
            pass
    raise InvalidTimezone(
        f"Unknown time zone {name[:MAX_ZONE_NAME]!r}; use an IANA name such as Europe/Paris."
    )


def _check_zone_name(name: str) -> str:
    zone_named(name)
    return name


# A request field naming a time zone (kept as its name).
TimezoneName = Annotated[
    str,
    Field(max_length=MAX_ZONE_NAME, description="IANA time zone, e.g. Europe/Paris."),
    AfterValidator(_check_zone_name),
]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` starts in `zone` (DST-aware), as an aware datetime in `zone`."""
    return datetime.combine(day, time(), tzinfo=zone)


def day_bounds(day: date, zone: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    """[start, end) of `days` local days from `day`."""
    return local_midnight(day, zone), local_midnight(day + timedelta(days=days), zone)


def month_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local month of `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, zone), local_midnight(following, zone)


async def current_time() -> datetime:
    """Now, as a dependency: tests override it with a fixed clock, so nothing time-dependent
    needs sleeping or the wall clock."""
    return utcnow()


Now = Annotated[datetime, Depends(current_time)]
