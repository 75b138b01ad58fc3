"""Provider-neutral chat types: what goes to a model and what streams back.

Every provider (OpenAI, Anthropic, offline) speaks these, so the chat feature never sees an SDK
type. Finish reasons use the AI SDK's names, because that is what `useChat` receives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool-calls", "content-filter", "error", "other"]
ProviderErrorKind = Literal[
    "auth", "rate_limited", "bad_request", "upstream", "timeout", "malformed", "unavailable"
]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The arguments as the model produced them: a JSON object serialised as text."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a conversation.

    An assistant turn that called tools carries them in `tool_calls`; each result comes back as
    a `tool` turn whose `tool_call_id` names the call it answers.
    """

    role: Role
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    """A JSON schema for the arguments (`{"type": "object", "properties": …}`)."""


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """Whether the model may call a tool (`auto`, the default), must call one (`required`),
    must not (`none`), or must call the one named (`tool`, with `name`)."""

    mode: Literal["auto", "required", "none", "tool"] = "auto"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    id: str
    arguments_delta: str


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    id: str
    name: str
    arguments: str
    """The complete arguments; `"{}"` when the model streamed none."""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason


StreamEvent = TextDelta | ToolCallStarted | ToolCallDelta | ToolCallFinished | Usage | Finish
"""A stream ends with exactly one `Finish`; `Usage`, when the provider reports it, comes just
before it. Tool-call events for one id arrive in the order started → deltas → finished."""


# The status our own API should answer with: an upstream auth failure is our misconfiguration
# (a bad server key), so the client sees a 502, not a 401 it could do nothing about.
_STATUS_BY_KIND: Mapping[ProviderErrorKind, int] = {
    "auth": 502,
    "rate_limited": 429,
    "bad_request": 400,
    "upstream": 502,
    "timeout": 504,
    "malformed": 502,
    "unavailable": 503,
}
_RETRYABLE: frozenset[ProviderErrorKind] = frozenset(
    {"rate_limited", "upstream", "timeout", "unavailable"}
)


class ProviderError(Exception):
    """A model provider failed; `message` is safe to show to the end user.

    The upstream detail (SDK exception) stays in `__cause__` for the log. `code`,
    `status_code` and `headers` line up with the app's error rendering.
    """

    def __init__(
        self,
        kind: ProviderErrorKind,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ProviderErrorKind = kind
        self.message = message
        self.status_code = status_code if status_code is not None else _STATUS_BY_KIND[kind]
        self.retry_after = retry_after
        self._retryable = kind in _RETRYABLE if retryable is None else retryable

    @property
    def code(self) -> str:
        return f"ai_{self.kind}"

    @property
    def retryable(self) -> bool:
        """Whether trying the same request again may succeed (by default, from `kind`)."""
        return self._retryable

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        # Retry-After takes whole seconds; round up so a client never retries too early.
        return {"Retry-After": str(max(0, math.ceil(self.retry_after)))}

    def __repr__(self) -> str:
        return f"ProviderError(kind={self.kind!r}, message={self.message!r})"
