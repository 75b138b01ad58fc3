"""Reservations and the service queue."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

_SHORT_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ReservationSettings(BaseSettings):
    # Upcoming reservations one user may hold, how many days ahead a slot may be booked,
    # whether bookings start confirmed (else an admin confirms them), and how early before
    # its slot a reservation may join the service's queue.
    max_future_reservations: int = Field(default=10, ge=1, le=10_000)
    reservation_horizon_days: int = Field(default=90, ge=1, le=3650)
    reservations_auto_confirm: bool = False
    queue_checkin_early_minutes: int = Field(default=15, ge=0, le=1440)
    # How long before a confirmed slot its holder is reminded ("1h", "30m", seconds, or ISO
    # 8601 "PT1H"); 0 or empty: no reminders.
    reservation_reminder_before: timedelta | None = timedelta(hours=1)
    # Tell the waiting user this many places from the front of a queue (1: next to be
    # called); 0: no such notice. "Your turn" is told whatever this is.
    reservation_notify_position: int = Field(default=2, ge=0, le=1000)

    @field_validator("reservation_reminder_before", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str) and (short := _SHORT_DURATION.match(value)):
            return timedelta(**{_UNITS[short[2]]: int(short[1])})
        return value

    @field_validator("reservation_reminder_before")
    @classmethod
    def _off_when_zero(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(0):
            raise ValueError("must not be negative")
        if value is not None and value > timedelta(days=365):
            raise ValueError("must be at most a year")
        return value or None  # 0: off
