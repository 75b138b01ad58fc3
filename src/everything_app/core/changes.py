"""Change events: queued on the unit of work, released only after it commits.

Services call `record_change(db, Change(...))` next to the write they describe. The request's
unit of work (core.db) publishes the queued changes to the app's `ChangeBus` once the commit
has succeeded, and drops them on rollback, so no listener ever hears of work that did not
happen. Background work uses `commit_and_publish` for the same guarantee.

The bus here delivers in-process. The realtime feature may replace `app.state.changes` with a
bus that also fans out across instances (PostgreSQL NOTIFY or Redis); the interface stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.logging import get_logger

log = get_logger(__name__)
PENDING_KEY = "pending_changes"


Op = Literal["insert", "update", "delete"]


@dataclass(frozen=True)
class Change:
    table: str
    op: Op
    row_id: uuid.UUID
    # Whose data this is: listeners only tell this user (and admins, for admin queries).
    # None for shared rows that every signed-in user may read (e.g. services).
    owner_id: uuid.UUID | None
    data: dict[str, Any] = field(default_factory=dict)
    # `data` is the row exactly as a read of it returns it (written from the database's own
    # RETURNING), announced by the process that wrote it: a live list may place the row
    # without running its query (realtime.registry's `fold`). Never set on a change from
    # another instance, whose order against this one's is not known.
    exact: bool = False


Listener = Callable[[Sequence[Change]], None]


class ChangeBus(Protocol):
    async def publish(self, changes: Sequence[Change]) -> None: ...

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Register a listener (it must not block); returns a function that removes it."""
        ...


class LocalChangeBus:
    """Delivers to listeners in this process, in publish order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    async def publish(self, changes: Sequence[Change]) -> None:
        self.deliver(changes)

    def deliver(self, changes: Sequence[Change]) -> None:
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # one broken listener must not starve the others
                log.exception("change_listener_failed")

    def listen(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)


def record_change(db: AsyncSession, change: Change) -> None:
    db.info.setdefault(PENDING_KEY, []).append(change)


def take_changes(db: AsyncSession) -> list[Change]:
    changes: list[Change] = db.info.pop(PENDING_KEY, [])
    return changes


async def commit_and_publish(db: AsyncSession, bus: ChangeBus | None) -> None:
    try:
        await db.commit()
    except BaseException:
        take_changes(db)
        raise
    changes = take_changes(db)
    if changes and bus is not None:
        await bus.publish(changes)
