"""FastAPI dependencies of the reservations feature."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from everything_app.core.db import utcnow
from everything_app.core.deps import SettingsDep
from everything_app.core.errors import ValidationFailed
from everything_app.reservations.booking import BookingPolicy
from everything_app.reservations.slots import zone_named


async def current_time() -> datetime:
    """ "Now" for every reservation rule. Tests override this dependency with a fixed clock,
    so nothing time-dependent needs sleeping or the wall clock."""
    return utcnow()


async def booking_policy(settings: SettingsDep) -> BookingPolicy:
    return BookingPolicy(
        max_future=settings.max_future_reservations,
        horizon=timedelta(days=settings.reservation_horizon_days),
        auto_confirm=settings.reservations_auto_confirm,
    )


async def checkin_early(settings: SettingsDep) -> timedelta:
    return timedelta(minutes=settings.queue_checkin_early_minutes)


async def timezone_param(
    tz: Annotated[str | None, Query(description="IANA timezone, e.g. Europe/Paris.")] = None,
) -> ZoneInfo | None:
    if tz is None:
        return None
    try:
        return zone_named(tz)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid_timezone") from exc


Now = Annotated[datetime, Depends(current_time)]
PolicyDep = Annotated[BookingPolicy, Depends(booking_policy)]
CheckinEarly = Annotated[timedelta, Depends(checkin_early)]
TimezoneParam = Annotated[ZoneInfo | None, Depends(timezone_param)]
