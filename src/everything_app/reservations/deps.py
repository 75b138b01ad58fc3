"""FastAPI dependencies of the reservations feature."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from everything_app.core.deps import SettingsDep
from everything_app.reservations.booking import BookingPolicy


async def booking_policy(settings: SettingsDep) -> BookingPolicy:
    return BookingPolicy(
        max_future=settings.max_future_reservations,
        horizon=timedelta(days=settings.reservation_horizon_days),
        auto_confirm=settings.reservations_auto_confirm,
    )


async def checkin_early(settings: SettingsDep) -> timedelta:
    return timedelta(minutes=settings.queue_checkin_early_minutes)


PolicyDep = Annotated[BookingPolicy, Depends(booking_policy)]
CheckinEarly = Annotated[timedelta, Depends(checkin_early)]
