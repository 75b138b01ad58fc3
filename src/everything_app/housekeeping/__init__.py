"""Scheduled upkeep: daily database backups (kept BACKUP_KEEP deep, their last outcome at
`/readyz` and `/metrics`) and the sweeps of expired sessions, ended API keys and abandoned
answers, as job kinds on schedules. The mechanisms stay with their owners (core.backup, and
the features that own the rows); this feature only schedules them.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.housekeeping.models import BackupStatus
    from everything_app.housekeeping.registration import feature

__all__ = ["BackupStatus", "feature"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, {"BackupStatus": "models", "feature": "registration"})
