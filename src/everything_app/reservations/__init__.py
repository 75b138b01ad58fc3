"""Services with a capacity per time slot, reservations, and each service's queue.

By role: `catalog` (services, availability), `booking` (reservations), `queue` (check-in,
advance, skip) with `checkin` (which reservation may join now); `slots` (calendar arithmetic),
`locks` (what serialises the counting writes), `access` (who sees what), `events` (change
events), `live` (the live queue); `routes`, `schemas`, `deps` for HTTP.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.reservations.models import QueueEntry, Reservation, Service
    from everything_app.reservations.registration import feature

__all__ = ["QueueEntry", "Reservation", "Service", "feature"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "QueueEntry": "models",
            "Reservation": "models",
            "Service": "models",
            "feature": "registration",
        },
    )
