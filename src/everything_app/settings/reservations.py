"""Reservations and the service queue."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class ReservationSettings(BaseSettings):
    # Upcoming reservations one user may hold, how many days ahead a slot may be booked,
    # whether bookings start confirmed (else an admin confirms them), and how early before
    # its slot a reservation may join the service's queue.
    max_future_reservations: int = Field(default=10, ge=1, le=10_000)
    reservation_horizon_days: int = Field(default=90, ge=1, le=3650)
    reservations_auto_confirm: bool = False
    queue_checkin_early_minutes: int = Field(default=15, ge=0, le=1440)
