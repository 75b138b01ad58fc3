from __future__ import annotations

import itertools
import uuid
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from everything_app.core.clock import TimezoneName
from everything_app.core.timestamps import Day, Instant, Timestamp
from everything_app.core.validation import Input
from everything_app.reservations.models import DEFAULT_OPENING_HOURS
from everything_app.reservations.slots import minutes_of

HourMinute = Annotated[str, StringConstraints(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=5000)]
Duration = Annotated[int, Field(ge=1, le=1440, description="Length of one slot, in minutes.")]
Capacity = Annotated[int, Field(ge=1, le=10_000, description="People per slot.")]


class Interval(Input):
    """Open from `open` to `close`, local time ("HH:MM"; "24:00" is midnight at the end)."""

    model_config = ConfigDict(extra="forbid")

    open: HourMinute
    close: HourMinute

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if minutes_of(self.open) >= minutes_of(self.close):
            raise ValueError("open must be before close")
        return self


OpeningHours = dict[Weekday, Annotated[list[Interval], Field(max_length=24)]]
_HOURS: TypeAdapter[OpeningHours] = TypeAdapter(OpeningHours)


def _check_hours(hours: OpeningHours) -> OpeningHours:
    for day, intervals in hours.items():
        ordered = sorted(intervals, key=lambda i: minutes_of(i.open))
        for before, after in itertools.pairwise(ordered):
            if minutes_of(after.open) < minutes_of(before.close):
                raise ValueError(f"opening hours on {day} overlap")
        hours[day] = ordered
    return hours


def _default_hours() -> OpeningHours:
    return _HOURS.validate_python(DEFAULT_OPENING_HOURS)


class ServiceCreate(Input):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    duration_minutes: Duration
    capacity: Capacity = 1
    opening_hours: OpeningHours = Field(
        default_factory=_default_hours,
        description="Per weekday (mon..sun), intervals of local time; a missing day is closed.",
    )
    timezone: TimezoneName = "UTC"

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: OpeningHours) -> OpeningHours:
        return _check_hours(value)


class ServiceUpdate(Input):
    """Only the fields sent change. Existing reservations stay valid as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    duration_minutes: Duration | None = None
    capacity: Capacity | None = None
    opening_hours: OpeningHours | None = None
    timezone: TimezoneName | None = None

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: OpeningHours | None) -> OpeningHours | None:
        return None if value is None else _check_hours(value)

    @model_validator(mode="after")
    def _no_nulls(self) -> ServiceUpdate:
        for name in self.model_fields_set - {"description"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    duration_minutes: int
    capacity: int
    opening_hours: dict[str, list[Interval]]
    timezone: str
    created_at: Instant
    updated_at: Instant


class SlotOut(BaseModel):
    start: Instant
    end: Instant
    capacity: int
    reserved: int
    remaining: int
    available: bool = Field(description="Bookable now: in the future, within the horizon, free.")


class AvailabilityOut(BaseModel):
    service_id: uuid.UUID
    date: Day
    timezone: str = Field(description="The timezone `date` was read in.")
    slots: list[SlotOut]


class ReservationCreate(Input):
    model_config = ConfigDict(extra="forbid")

    service_id: uuid.UUID
    time_slot: Timestamp = Field(description="A slot start with its offset, e.g. ...Z.")


class ReservationUpdate(Input):
    """Cancel (the owner or an admin), confirm (an admin), or move to another slot: one of
    `status` and `time_slot`."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["confirmed", "canceled"] | None = None
    time_slot: Timestamp | None = Field(
        default=None, description="Move to this slot start of the same service (with offset)."
    )

    @model_validator(mode="after")
    def _one_change(self) -> ReservationUpdate:
        if (self.status is None) == (self.time_slot is None):
            raise ValueError("give either status or time_slot")
        return self


class ReservationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    service_id: uuid.UUID
    time_slot: Instant
    status: Literal["pending", "confirmed", "canceled"]
    created_at: Instant
    updated_at: Instant


class QueueJoin(Input):
    """A user checks in a reservation (by default the one for now); an admin may instead add
    a walk-in (no reservation_id, optionally a label)."""

    model_config = ConfigDict(extra="forbid")

    reservation_id: uuid.UUID | None = None
    label: Name | None = None


class QueueSkip(Input):
    model_config = ConfigDict(extra="forbid")

    entry_id: uuid.UUID | None = Field(
        default=None, description="A waiting entry to skip; by default the one in service."
    )


class QueueEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    service_id: uuid.UUID
    reservation_id: uuid.UUID | None
    user_id: uuid.UUID | None
    label: str | None
    position: int
    status: Literal["waiting", "in_service", "completed", "skipped"]
    ahead: int | None = Field(
        default=None, description="Waiting entries to be called first; 0 in service."
    )
    created_at: Instant
    updated_at: Instant


# `now_serving` is one thing everywhere (queue reads, advance and skip, the realtime `queues`
# event): the position (ticket number) of the entry in service, or null. A number, because
# every user may see it while the entry itself (whose reservation) is for its owner and
# admins; advance and skip also answer the entry they called, as `called`.
NOW_SERVING = "Position (ticket number) of the entry in service; null when nobody is."


class QueueOut(BaseModel):
    """Admins get every active entry in order; a user gets only their own."""

    service_id: uuid.UUID
    now_serving: int | None = Field(description=NOW_SERVING)
    waiting_count: int
    entries: list[QueueEntryOut]


class QueueMoved(BaseModel):
    finished: QueueEntryOut | None = Field(description="Completed or skipped by this call.")
    called: QueueEntryOut | None = Field(description="Put in service by this call.")
    now_serving: int | None = Field(description=NOW_SERVING)
    waiting_count: int
