"""The planner feature: its owned tables (routes, live lists), the dashboard, and its tools
in chat with the offline assistant's sentences."""

from __future__ import annotations

from everything_app.ai import OfflineRules
from everything_app.chat import ToolBoxes
from everything_app.core.features import Feature, Registry
from everything_app.owned import add_table
from everything_app.planner.chat_tools import offline_planner, planner_toolbox
from everything_app.planner.routes import routers
from everything_app.planner.tables import PLANNER_TABLES


def register(registry: Registry) -> None:
    for table in PLANNER_TABLES:
        add_table(registry, table)
    registry[ToolBoxes].add("planner", planner_toolbox)
    registry[OfflineRules].add("planner", offline_planner)


feature = Feature("planner", routers=routers, register=register)
