"""Request shapes of OpenAI's Chat Completions, and the usage report.

Only what the provider layer can act on is modelled. OpenAI's other knobs (`temperature`,
`top_p`, `seed`, `response_format`, `user`, …) are accepted and ignored, as many
OpenAI-compatible servers do, so that existing clients keep working unchanged.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from everything_app.core.timestamps import Instant

# The largest answer length asked for; any real model's limit is far below it.
MAX_TOKENS = 1_000_000


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContentPart(_Lenient):
    type: str
    text: str | None = None


class FunctionCall(_Lenient):
    name: str
    arguments: str = ""


class ToolCallIn(_Lenient):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class MessageIn(_Lenient):
    """One message; which fields a role needs is checked when it is converted."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None


class FunctionDef(_Lenient):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolIn(_Lenient):
    type: Literal["function"] = "function"
    function: FunctionDef


class NamedFunction(_Lenient):
    name: str


class NamedToolChoice(_Lenient):
    type: Literal["function"] = "function"
    function: NamedFunction


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionRequest(_Lenient):
    model: str = Field(min_length=1)
    messages: list[MessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[ToolIn] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    n: int | None = Field(default=None, ge=1, le=1, description="Only 1 is supported.")


class UsageTotals(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int


class ModelUsage(UsageTotals):
    model: str


class KeyUsage(UsageTotals):
    api_key_id: uuid.UUID | None = Field(description="null: calls made with a session, not a key")
    name: str | None
    prefix: str | None


class UsageReport(BaseModel):
    start: Instant
    end: Instant
    totals: UsageTotals
    by_model: list[ModelUsage]
    by_key: list[KeyUsage]
