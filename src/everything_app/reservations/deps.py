"""FastAPI dependencies of the reservations feature."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from everything_app.core.clock import zone_named
from everything_app.core.deps import SettingsDep
from everything_app.reservations.booking import BookingPolicy
from everything_app.reservations.notices import Notices


async def booking_policy(settings: SettingsDep) -> BookingPolicy:
    return BookingPolicy(
        max_future=settings.max_future_reservations,
        horizon=timedelta(days=settings.reservation_horizon_days),
        auto_confirm=settings.reservations_auto_confirm,
    )


async def checkin_early(settings: SettingsDep) -> timedelta:
    return timedelta(minutes=settings.queue_checkin_early_minutes)


async def notices(settings: SettingsDep) -> Notices:
    return Notices.from_settings(settings)


async def timezone_param(
    tz: Annotated[str | None, Query(description="IANA timezone, e.g. Europe/Paris.")] = None,
) -> ZoneInfo | None:
    return None if tz is None else zone_named(tz)  # an unknown zone: 422 invalid_timezone


PolicyDep = Annotated[BookingPolicy, Depends(booking_policy)]
NoticesDep = Annotated[Notices, Depends(notices)]
CheckinEarly = Annotated[timedelta, Depends(checkin_early)]
TimezoneParam = Annotated[ZoneInfo | None, Depends(timezone_param)]
