"""The planner: calendar events, tasks, expenses, the dashboard, and the tools and
sentence parser through which chat turns plain sentences into records.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.planner.models import CalendarEvent, Expense, PlannerImport, Task
    from everything_app.planner.registration import feature

__all__ = ["CalendarEvent", "Expense", "PlannerImport", "Task", "feature"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "CalendarEvent": "models",
            "Expense": "models",
            "PlannerImport": "models",
            "Task": "models",
            "feature": "registration",
        },
    )
