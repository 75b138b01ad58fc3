"""`/api/events`, `/api/tasks`, `/api/expenses` (from the owned-table registry) and
`/api/dashboard`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from everything_app.auth import CurrentUser, require_user
from everything_app.core.clock import Now, zone_named
from everything_app.core.db import SessionDep
from everything_app.core.params import StrictQuery
from everything_app.owned import owned_router
from everything_app.planner import dashboard
from everything_app.planner.schemas import Dashboard
from everything_app.planner.tables import PLANNER_TABLES

dashboard_router = APIRouter(tags=["dashboard"], dependencies=[Depends(require_user), StrictQuery])


@dashboard_router.get("/api/dashboard", response_model=Dashboard)
async def get_dashboard(
    user: CurrentUser,
    db: SessionDep,
    now: Now,
    tz: Annotated[
        str, Query(max_length=64, description="IANA time zone, e.g. Europe/Paris.")
    ] = "UTC",
) -> Dashboard:
    """Today's and the next 7 days' events, open and overdue tasks, this month's spending by
    category and the last 30 days' spending per day, in the time zone `tz`. An unknown time
    zone is a 422 `invalid_timezone`."""
    return await dashboard.build(db, user.id, zone_named(tz), now)


routers = [owned_router(table) for table in PLANNER_TABLES] + [dashboard_router]
