from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from everything_app.core.jobs import JobStatus
from everything_app.core.timestamps import Instant


class JobOut(BaseModel):
    """A job as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    status: JobStatus
    progress: int = Field(description="0 to 100")
    message: str = Field(
        validation_alias="progress_message", description="What the job said with its progress"
    )
    result: Any = Field(default=None, description="What the job returned, once succeeded")
    error: str | None = Field(description="Why it failed (kept); the last error while retrying")
    attempts: int
    max_attempts: int
    run_at: Instant
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    updated_at: Instant


class ActionOut(BaseModel):
    name: str
    summary: str
    input_schema: dict[str, Any] = Field(description="JSON Schema of the request body")


class ActionList(BaseModel):
    data: list[ActionOut]
