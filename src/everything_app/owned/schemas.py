"""Base request/response shapes of owned tables: bodies refuse unknown fields, so `user_id`,
`id` and the timestamps can never be assigned by a client (mass assignment is a 422)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement

from everything_app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from everything_app.core.timestamps import Instant
from everything_app.core.validation import Input

# Set by the server only; a body naming one of them is rejected.
PROTECTED_FIELDS = frozenset({"id", "user_id", "created_at", "updated_at"})


class OwnedInput(Input):
    """A create or update body."""

    model_config = ConfigDict(extra="forbid")


class OwnedOutput(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    # Answers are in UTC, whatever offset the row was written with (see core.timestamps).
    created_at: Instant
    updated_at: Instant


class ListQuery(Input):
    """Query parameters of a list. Subclasses add their filters, a `sort` Literal whose values
    are the table's `sorts` keys, and `conditions()`. Unknown parameters are a 422, so a
    misspelt filter is never silently ignored."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(
        default=None, description="`next_cursor` of the previous page (same filters and sort)."
    )
    sort: str

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions for the filters that were given (combined with AND)."""
        return []
