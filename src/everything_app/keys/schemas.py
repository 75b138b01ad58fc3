from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from everything_app.core.timestamps import Instant
from everything_app.core.validation import Input


class KeyCreate(Input):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name must not be blank")
        return value


class KeyOut(BaseModel):
    """A key as listed: never its secret nor its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: Instant
    last_used_at: Instant | None
    expires_at: Instant | None
    revoked: bool
    status: Literal["active", "revoked", "expired"]


class KeyCreated(KeyOut):
    key: str = Field(description="The full key. It is shown this once and never again.")
