"""Request and response shapes of the chat API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from everything_app.core.timestamps import Instant
from everything_app.core.validation import Input

MAX_TEXT = 32_000


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)"
        ) from None
    return value


# The user's IANA time zone: "tomorrow at 9" and the planner tools read times in it.
Timezone = Annotated[str, Field(max_length=64), AfterValidator(_check_timezone)]


class UIPart(Input):
    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=100)
    text: str | None = Field(default=None, max_length=MAX_TEXT)


class UIMessage(Input):
    model_config = ConfigDict(extra="allow")

    id: str = Field(default="", max_length=200)
    role: Literal["system", "user", "assistant"]
    parts: list[UIPart] = Field(default_factory=list, max_length=200)

    def text(self) -> str:
        return "".join(part.text or "" for part in self.parts if part.type == "text")


class UIChatRequest(Input):
    """The AI SDK `useChat` request (DefaultChatTransport). Only the last message is read:
    the server trusts its own stored history, not the client's copy."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=200, description="The chat id (our session id).")
    messages: list[UIMessage] = Field(min_length=1, max_length=10_000)
    trigger: Literal["submit-message", "regenerate-message"] = "submit-message"
    messageId: str | None = Field(default=None, max_length=200)  # noqa: N815 - AI SDK's name
    model: str | None = Field(default=None, max_length=100)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    timezone: Timezone = "UTC"


class ContentChatRequest(Input):
    """Seed 001's request: `{content, model}`, optionally into an existing session."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=MAX_TEXT)
    model: str | None = Field(default=None, max_length=100)
    session_id: uuid.UUID | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stream: bool | None = None
    timezone: Timezone = "UTC"


class MessageChatRequest(Input):
    """Seed 002's request: `{message}`; answered as JSON with `stream: false` or an
    `Accept: application/json` header."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MAX_TEXT)
    model: str | None = Field(default=None, max_length=100)
    session_id: uuid.UUID | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stream: bool | None = None
    timezone: Timezone = "UTC"


ChatRequest = UIChatRequest | ContentChatRequest | MessageChatRequest


class ChatReplyText(BaseModel):
    role: Literal["assistant"]
    text: str


class ChatJSONReply(BaseModel):
    """Seed 002's answer shape, plus where it was stored."""

    messages: list[ChatReplyText]
    session_id: uuid.UUID
    message_id: uuid.UUID
    status: str


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str | None
    model: str
    created_at: Instant
    updated_at: Instant


class SessionRename(Input):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    session_id: uuid.UUID
    role: str
    content: str
    parts: list[dict[str, Any]] | None
    model: str | None
    status: str
    error: str | None
    input_tokens: int | None
    output_tokens: int | None
    created_at: Instant


class StopOut(BaseModel):
    stopped: bool
