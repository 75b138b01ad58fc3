"""Jobs over HTTP: `/api/jobs` (a user's jobs: list, read, cancel), `/api/actions` (server
actions: job kinds a user starts with a validated body), the live `jobs.list` and `jobs.get`,
and the pruning of old finished jobs. The engine is `core.jobs`.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.jobs.registration import feature

__all__ = ["feature"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, {"feature": "registration"})
