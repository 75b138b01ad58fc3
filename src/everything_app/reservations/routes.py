"""`/api/services`, `/api/reservations`, `/api/queues`. Every route needs a
signed-in user; writes to services and moving a queue need an administrator."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, status

from everything_app.auth import AdminUser, CurrentUser, require_user
from everything_app.core.clock import Now
from everything_app.core.db import SessionDep
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from everything_app.core.params import StrictQuery
from everything_app.core.timestamps import Day
from everything_app.reservations import booking, catalog, queue
from everything_app.reservations.deps import CheckinEarly, NoticesDep, PolicyDep, TimezoneParam
from everything_app.reservations.models import QueueEntry, Reservation, Service
from everything_app.reservations.schemas import (
    AvailabilityOut,
    QueueEntryOut,
    QueueJoin,
    QueueMoved,
    QueueOut,
    QueueSkip,
    ReservationCreate,
    ReservationOut,
    ReservationUpdate,
    ServiceCreate,
    ServiceOut,
    ServiceUpdate,
    SlotOut,
)

services_router = APIRouter(
    prefix="/api/services", tags=["services"], dependencies=[Depends(require_user), StrictQuery]
)
reservations_router = APIRouter(
    prefix="/api/reservations",
    tags=["reservations"],
    dependencies=[Depends(require_user), StrictQuery],
)
queues_router = APIRouter(
    prefix="/api/queues", tags=["queues"], dependencies=[Depends(require_user), StrictQuery]
)
routers = (services_router, reservations_router, queues_router)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _links(parameter: str, *targets: tuple[str, str]) -> dict[int | str, Any]:
    """OpenAPI links from a 201 to the operations (method, path) on what it made, passing its
    `id` as `parameter`: clients and Schemathesis' stateful phase follow them."""
    links = {
        re.sub(r"[^A-Za-z0-9]+", "_", f"{method}{path}").strip("_"): {
            "operationRef": f"#/paths/{path.replace('/', '~1')}/{method}",
            "parameters": {parameter: "$response.body#/id"},
        }
        for method, path in targets
    }
    return {201: {"description": "Created", "links": links}}


def _service(service: Service) -> ServiceOut:
    return ServiceOut.model_validate(service, from_attributes=True)


def _reservation(reservation: Reservation) -> ReservationOut:
    return ReservationOut.model_validate(reservation, from_attributes=True)


def _entry(entry: QueueEntry, ahead: int | None) -> QueueEntryOut:
    out = QueueEntryOut.model_validate(entry, from_attributes=True)
    return out.model_copy(update={"ahead": ahead})


def _moved(moved: queue.Moved) -> QueueMoved:
    finished, called = moved.finished, moved.called
    return QueueMoved(
        finished=_entry(finished, None) if finished is not None else None,
        called=_entry(called, 0) if called is not None else None,
        now_serving=moved.now_serving,
        waiting_count=moved.waiting_count,
    )


# --- services ---------------------------------------------------------------------------


@services_router.get("", response_model=Page[ServiceOut])
async def list_services(
    db: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[ServiceOut]:
    """Every service, newest first."""
    rows, next_cursor = await catalog.list_services(db, cursor=cursor, limit=limit)
    return Page[ServiceOut](data=[_service(s) for s in rows], next_cursor=next_cursor)


@services_router.post(
    "",
    response_model=ServiceOut,
    status_code=status.HTTP_201_CREATED,
    responses=_links(
        "service_id",
        ("get", "/api/services/{service_id}"),
        ("patch", "/api/services/{service_id}"),
        ("get", "/api/services/{service_id}/availability"),
        ("get", "/api/queues/{service_id}"),
        ("post", "/api/queues/{service_id}/join"),
        ("post", "/api/queues/{service_id}/advance"),
        ("post", "/api/queues/{service_id}/skip"),
    ),
)
async def create_service(body: ServiceCreate, _admin: AdminUser, db: SessionDep) -> ServiceOut:
    """Add a service (administrators). Opening hours default to 09:00-17:00, Monday-Friday."""
    return _service(await catalog.create_service(db, body.model_dump()))


@services_router.get("/{service_id}", response_model=ServiceOut)
async def get_service(service_id: uuid.UUID, db: SessionDep) -> ServiceOut:
    return _service(await catalog.get_service(db, service_id))


@services_router.patch("/{service_id}", response_model=ServiceOut)
async def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, _admin: AdminUser, db: SessionDep
) -> ServiceOut:
    """Change a service (administrators). Existing reservations are kept as they are."""
    values = body.model_dump(exclude_unset=True)
    return _service(await catalog.update_service(db, service_id, values))


@services_router.delete("/{service_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_service(
    service_id: uuid.UUID, _admin: AdminUser, db: SessionDep, now: Now
) -> None:
    """Delete a service (administrators); refused (409) while it has future reservations or
    people in its queue."""
    await catalog.delete_service(db, service_id, now=now)


@services_router.get("/{service_id}/availability", response_model=AvailabilityOut)
async def availability(
    service_id: uuid.UUID,
    day: Annotated[Day, Query(alias="date", description="YYYY-MM-DD")],
    zone: TimezoneParam,
    db: SessionDep,
    now: Now,
    policy: PolicyDep,
) -> AvailabilityOut:
    """The slots that start on `date` (read in `tz`, by default the service's timezone), with
    the places left in each."""
    used_zone, slots = await catalog.availability(
        db, service_id, day, zone, now=now, horizon=policy.horizon
    )
    return AvailabilityOut(
        service_id=service_id,
        date=day,
        timezone=used_zone.key,
        slots=[
            SlotOut(
                start=s.start,
                end=s.end,
                capacity=s.capacity,
                reserved=s.reserved,
                remaining=s.remaining,
                available=s.available,
            )
            for s in slots
        ],
    )


# --- reservations -----------------------------------------------------------------------


@reservations_router.post(
    "",
    response_model=ReservationOut,
    status_code=status.HTTP_201_CREATED,
    responses=_links(
        "reservation_id",
        ("get", "/api/reservations/{reservation_id}"),
        ("patch", "/api/reservations/{reservation_id}"),
    ),
)
async def create_reservation(
    body: ReservationCreate,
    user: CurrentUser,
    db: SessionDep,
    now: Now,
    policy: PolicyDep,
    notices: NoticesDep,
) -> ReservationOut:
    """Book one place at a slot. 409 `slot_full`, `already_reserved` or
    `too_many_reservations`; 422 `slot_not_offered`, `slot_in_past` or `slot_too_far`."""
    reservation = await booking.book(
        db, user, body.service_id, body.time_slot, now=now, policy=policy, notices=notices
    )
    return _reservation(reservation)


@reservations_router.get("", response_model=Page[ReservationOut])
async def list_reservations(
    user: CurrentUser,
    db: SessionDep,
    zone: TimezoneParam,
    status_: Annotated[
        Literal["pending", "confirmed", "canceled"] | None, Query(alias="status")
    ] = None,
    day: Annotated[
        Day | None, Query(alias="date", description="Slots on this day (in tz).")
    ] = None,
    service_id: uuid.UUID | None = None,
    user_id: Annotated[uuid.UUID | None, Query(description="Administrators only.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ReservationOut]:
    """Your reservations (administrators: everyone's), earliest slot first."""
    filters = booking.ReservationFilter(
        status=status_,
        day=day,
        zone=zone or booking.UTC_ZONE,
        service_id=service_id,
        user_id=user_id,
    )
    rows, next_cursor = await booking.list_reservations(
        db, user, filters, cursor=cursor, limit=limit
    )
    return Page[ReservationOut](data=[_reservation(r) for r in rows], next_cursor=next_cursor)


@reservations_router.get("/{reservation_id}", response_model=ReservationOut)
async def get_reservation(
    reservation_id: uuid.UUID, user: CurrentUser, db: SessionDep
) -> ReservationOut:
    return _reservation(await booking.get_reservation(db, user, reservation_id))


@reservations_router.patch("/{reservation_id}", response_model=ReservationOut)
async def update_reservation(
    reservation_id: uuid.UUID,
    body: ReservationUpdate,
    user: CurrentUser,
    db: SessionDep,
    now: Now,
    policy: PolicyDep,
    notices: NoticesDep,
) -> ReservationOut:
    """Cancel (the owner, until the slot starts; administrators any time), confirm
    (administrators), or move to another slot of the service (`time_slot`: the owner until
    the slot starts, administrators any time; the rules of booking apply to the new slot,
    409 `reservation_in_queue` once checked in). A canceled reservation stays canceled (409).
    Canceling or moving cancels the reservation's pending reminder; confirming or moving a
    confirmed one schedules it."""
    if body.time_slot is not None:
        reservation = await booking.move(
            db, user, reservation_id, body.time_slot, now=now, policy=policy, notices=notices
        )
    else:
        assert body.status is not None  # the schema requires one of the two
        reservation = await booking.change_status(
            db, user, reservation_id, body.status, now=now, notices=notices
        )
    return _reservation(reservation)


# --- queues -----------------------------------------------------------------------------


@queues_router.post(
    "/{service_id}/join", response_model=QueueEntryOut, status_code=status.HTTP_201_CREATED
)
async def join_queue(
    service_id: uuid.UUID,
    user: CurrentUser,
    db: SessionDep,
    now: Now,
    early: CheckinEarly,
    body: Annotated[QueueJoin | None, Body()] = None,
) -> QueueEntryOut:
    """Check in a confirmed reservation during its slot (from a few minutes before). An
    administrator without a `reservation_id` adds a walk-in."""
    body = body or QueueJoin()
    place = await queue.join(
        db,
        user,
        service_id,
        reservation_id=body.reservation_id,
        label=body.label,
        now=now,
        early=early,
    )
    return _entry(place.entry, place.ahead)


@queues_router.get("/{service_id}", response_model=QueueOut)
async def get_queue(
    service_id: uuid.UUID,
    user: CurrentUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> QueueOut:
    """Administrators: the whole active queue in order. Users: their own entries, with how
    many are ahead of each."""
    found = await queue.view(db, user, service_id, limit=limit)
    return QueueOut(
        service_id=found.service_id,
        now_serving=found.now_serving,
        waiting_count=found.waiting_count,
        entries=[_entry(p.entry, p.ahead) for p in found.places],
    )


@queues_router.post("/{service_id}/advance", response_model=QueueMoved)
async def advance_queue(
    service_id: uuid.UUID, _admin: AdminUser, db: SessionDep, notices: NoticesDep
) -> QueueMoved:
    """Complete the entry in service and call the next one, in one transaction. The one
    called is told it is their turn, and the one now `RESERVATION_NOTIFY_POSITION` places
    from the front that they are nearly there (notifications, through jobs)."""
    return _moved(await queue.advance(db, service_id, notices))


@queues_router.post("/{service_id}/skip", response_model=QueueMoved)
async def skip_queue_entry(
    service_id: uuid.UUID,
    _admin: AdminUser,
    db: SessionDep,
    notices: NoticesDep,
    body: Annotated[QueueSkip | None, Body()] = None,
) -> QueueMoved:
    """Mark a no-show as skipped: the entry in service (the next is called), or a waiting
    entry given by `entry_id`."""
    entry_id = body.entry_id if body is not None else None
    return _moved(await queue.skip(db, service_id, entry_id, notices))
