"""Request and response shapes of the chat API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from everything_app.core.clock import TimezoneName
from everything_app.core.timestamps import Instant
from everything_app.core.validation import Input

MAX_TEXT = 32_000


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
    # The user's zone: "tomorrow at 9" and the planner tools read times in it.
    timezone: TimezoneName = "UTC"


class ContentChatRequest(Input):
    """The plain-content request: `{content, model}`, optionally into an existing session."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=MAX_TEXT)
    model: str | None = Field(default=None, max_length=100)
    session_id: uuid.UUID | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stream: bool | None = None
    # The user's zone: "tomorrow at 9" and the planner tools read times in it.
    timezone: TimezoneName = "UTC"


class MessageChatRequest(Input):
    """The plain-message request: `{message}`; answered as JSON with `stream: false` or an
    `Accept: application/json` header."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MAX_TEXT)
    model: str | None = Field(default=None, max_length=100)
    session_id: uuid.UUID | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stream: bool | None = None
    # The user's zone: "tomorrow at 9" and the planner tools read times in it.
    timezone: TimezoneName = "UTC"


_KINDS: dict[type, str] = {
    UIChatRequest: "ui",
    ContentChatRequest: "content",
    MessageChatRequest: "message",
}


def _request_kind(body: Any) -> str | None:
    """Which of the three request shapes a body is, from the key only that shape has, so a
    mistake is reported against that shape alone (one detail naming the field), never as
    every shape's complaints at once. None: no shape's key at all (one `invalid_chat_body`)."""
    if not isinstance(body, dict):
        return _KINDS.get(type(body))
    for key, kind in (("messages", "ui"), ("content", "content"), ("message", "message")):
        if key in body:
            return kind
    return "ui" if "id" in body or "trigger" in body else None


ChatRequest = Annotated[
    Annotated[UIChatRequest, Tag("ui")]
    | Annotated[ContentChatRequest, Tag("content")]
    | Annotated[MessageChatRequest, Tag("message")],
    Discriminator(
        _request_kind,
        custom_error_type="invalid_chat_body",
        custom_error_message="The body needs `content`, `message` or "
        "the AI SDK's `id` and `messages`.",
    ),
]


class ChatReplyText(BaseModel):
    role: Literal["assistant"]
    text: str


class ChatJSONReply(BaseModel):
    """The JSON answer to a `{message}` request, plus where it was stored."""

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


def ui_parts(content: str, parts: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A message as AI SDK parts, which a `useChat` client reloading history renders.

    Messages are stored with their whole parts (a user message its text part; an answer, per
    model step, `step-start`, its text and its tool calls). Rows from before that, and an
    answer still streaming (whose text grows before its parts are written), get their
    content as a text part at read time: after their tool parts, where an answer's text is."""
    whole = list(parts or [])
    if content and not any(part.get("type") == "text" for part in whole):
        whole.append({"type": "text", "text": content})
    return whole


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    session_id: uuid.UUID
    role: str
    content: str
    parts: list[dict[str, Any]]
    model: str | None
    status: str
    error: str | None
    input_tokens: int | None
    output_tokens: int | None
    created_at: Instant

    @model_validator(mode="before")
    @classmethod
    def _with_parts(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value | {"parts": ui_parts(value.get("content") or "", value.get("parts"))}
        return {name: getattr(value, name) for name in cls.model_fields if name != "parts"} | {
            "parts": ui_parts(value.content or "", value.parts)
        }


class StopOut(BaseModel):
    stopped: bool
