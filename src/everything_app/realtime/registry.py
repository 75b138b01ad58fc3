"""Named live queries: what a client may subscribe to, and which changes can alter each.

A live query is a read (`run`) plus the cheap test the hub applies to every committed change
(`affects`), so that a change re-runs only the queries it can alter, for the subscribers
allowed to see it. Features add theirs in their `register(registry)` step:

    registry[QueryRegistry].register("tasks.list", list_tasks, args=TaskFilters, tables={"tasks"})

Each app has its own `QueryRegistry` (core.features), which its hub serves.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.changes import Change
from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from everything_app.core.validation import Input

NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class Viewer:
    """Whom a query runs for. Shared by every connection of one user, so a query result
    must depend on the user and the arguments only, never on the device or credential."""

    user_id: uuid.UUID
    is_admin: bool = False


class NoArgs(Input):
    model_config = ConfigDict(extra="forbid")


class PageArgs(Input):
    """The arguments of a live list read page by page, as its REST list is."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=500)


ArgsT = TypeVar("ArgsT", bound=BaseModel)
Runner = Callable[[AsyncSession, Viewer, ArgsT], Awaitable[Any]]
Predicate = Callable[[Change, Viewer, ArgsT], bool]
# The result once `change` has happened, made from the last result (not changed in place)
# without the database; None when it cannot tell, and the query runs.
Folder = Callable[[Any, Change, Viewer, ArgsT], Any | None]


def owner_matches(change: Change, viewer: Viewer, args: Any) -> bool:
    """The default test: the viewer's own rows, and shared rows (no owner) that anyone reads."""
    return change.owner_id is None or change.owner_id == viewer.user_id


def any_change(change: Change, viewer: Viewer, args: Any) -> bool:
    return True


@dataclass(frozen=True)
class LiveQuery(Generic[ArgsT]):
    name: str
    args: type[ArgsT]
    run: Runner[ArgsT]
    tables: frozenset[str]
    # Called for every change on `tables` owned by the viewer (or by no one; for admin
    # queries, by anyone). Must be cheap and must not do I/O; when unsure, return True.
    affects: Predicate[ArgsT]
    # Admin queries are open to administrators only and shared by all of them.
    admin: bool = False
    # Optional: for the changes whose data is exact (`Change.exact`), the new result without
    # running the query (the hub falls back to running it whenever this says None).
    fold: Folder[ArgsT] | None = None


class QueryRegistry:
    def __init__(self) -> None:
        self._queries: dict[str, LiveQuery[Any]] = {}

    def add(self, query: LiveQuery[Any]) -> None:
        if not NAME.match(query.name):
            raise ValueError(f"live query name {query.name!r} must look like 'feature.query'")
        if query.name in self._queries:
            raise ValueError(f"live query {query.name!r} is registered twice")
        if not query.tables:
            raise ValueError(f"live query {query.name!r} depends on no table")
        self._queries[query.name] = query

    def get(self, name: str) -> LiveQuery[Any] | None:
        return self._queries.get(name)

    def names(self) -> list[str]:
        return sorted(self._queries)

    def __contains__(self, name: object) -> bool:
        return name in self._queries

    def register(
        self,
        name: str,
        run: Runner[ArgsT],
        *,
        tables: Iterable[str],
        args: type[ArgsT] = NoArgs,  # type: ignore[assignment]  # NoArgs is the default ArgsT
        affects: Predicate[ArgsT] | None = None,
        admin: bool = False,
        fold: Folder[ArgsT] | None = None,
    ) -> LiveQuery[ArgsT]:
        """Add a live query. `affects` defaults to "the viewer's own rows" (any row for an
        admin query); without `fold`, every change it affects runs the query again."""
        query = LiveQuery(
            name=name,
            args=args,
            run=run,
            tables=frozenset(tables),
            affects=affects or (any_change if admin else owner_matches),
            admin=admin,
            fold=fold,
        )
        self.add(query)
        return query
