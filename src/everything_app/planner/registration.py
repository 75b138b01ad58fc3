"""The planner feature: its owned tables (routes, live lists), the dashboard, its tools
in chat with the offline assistant's sentences, and its server actions (import, summary)."""

from __future__ import annotations

from everything_app.ai import OfflineRules
from everything_app.chat import ToolBoxes
from everything_app.core.features import Feature, Registry
from everything_app.core.jobs import JobKind, JobKinds
from everything_app.owned import add_table
from everything_app.planner.chat_tools import offline_planner, planner_toolbox
from everything_app.planner.import_action import ImportArgs, run_import
from everything_app.planner.routes import routers
from everything_app.planner.summary import SummaryArgs, run_summary
from everything_app.planner.tables import PLANNER_TABLES


def register(registry: Registry) -> None:
    for table in PLANNER_TABLES:
        add_table(registry, table)
    registry[ToolBoxes].add("planner", planner_toolbox)
    registry[OfflineRules].add("planner", offline_planner)
    registry[JobKinds].add(
        JobKind(
            "planner.import",
            ImportArgs,
            run_import,
            action=True,
            summary="Import events, tasks or expenses from a CSV or iCalendar (.ics) file.",
        )
    )
    registry[JobKinds].add(
        JobKind(
            "planner.summary",
            SummaryArgs,
            run_summary,
            action=True,
            summary="A written summary of one week: events, open tasks, spending by category.",
        )
    )


feature = Feature("planner", routers=routers, register=register)
