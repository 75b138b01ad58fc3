"""Services with a capacity per time slot, reservations, and each service's queue.

By role: `catalog` (services, availability), `booking` (reservations), `queue` (check-in,
advance, skip) with `checkin` (which reservation may join now); `slots` (calendar arithmetic),
`locks` (what serialises the counting writes), `access` (who sees what), `events` (change
events); `routes`, `schemas`, `deps` for HTTP.
"""
