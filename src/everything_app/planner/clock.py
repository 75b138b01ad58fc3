"""Time zones and local days: the planner reasons in the user's time zone, stores UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends

from everything_app.core.db import utcnow
from everything_app.core.errors import BadRequest


def resolve_timezone(name: str | ZoneInfo) -> ZoneInfo:
    """An IANA time zone such as Europe/Paris; anything else is a 400."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        if not name or len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(
            f"Unknown time zone {name[:64]!r}; use an IANA name such as Europe/Paris.",
            code="invalid_timezone",
        ) from None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant `day` starts in `tz` (DST-aware), as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=tz)


def day_bounds(day: date, tz: ZoneInfo, days: int = 1) -> tuple[datetime, datetime]:
    return local_midnight(day, tz), local_midnight(day + timedelta(days=days), tz)


def month_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, tz), local_midnight(following, tz)


async def current_time() -> datetime:
    """Now, as a dependency, so tests can fix the clock."""
    return utcnow()


NowDep = Annotated[datetime, Depends(current_time)]
