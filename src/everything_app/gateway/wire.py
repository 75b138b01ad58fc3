"""Provider events rendered as OpenAI Chat Completions: streamed chunks or one completion.

Pure functions and small builders, no I/O. The shapes follow what the `openai` SDK parses
(see PROTOCOLS.md): every chunk carries the same `id`, `created` and `model`; a tool call's
first delta names it (`index`, `id`, `type`, `function.name`), later deltas carry only `index`
and argument fragments.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from everything_app.ai import (
    Finish,
    FinishReason,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from everything_app.core.sse import DONE, event, json_bytes

# OpenAI has no "error"/"other" finish reason: the SDK types accept only these names, and an
# answer that ended for another reason did stop.
_FINISH_REASONS: dict[FinishReason, str] = {
    "stop": "stop",
    "length": "length",
    "tool-calls": "tool_calls",
    "content-filter": "content_filter",
    "error": "stop",
    "other": "stop",
}


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def usage_object(usage: Usage | None) -> dict[str, int]:
    input_tokens = usage.input_tokens if usage else 0
    output_tokens = usage.output_tokens if usage else 0
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def sse(data: dict[str, Any]) -> bytes:
    return event(json_bytes(data))


@dataclass
class _Call:
    index: int
    name: str
    sent: list[str] = field(default_factory=list)


class ChunkEncoder:
    """One streamed completion: each provider event becomes zero or one SSE frame."""

    def __init__(self, model: str, *, include_usage: bool) -> None:
        self._id = new_completion_id()
        self._created = int(time.time())
        self._model = model
        self._include_usage = include_usage
        self._calls: dict[str, _Call] = {}

    def start(self) -> bytes:
        """The opening chunk, which carries the role as OpenAI's does."""
        return self._chunk({"role": "assistant", "content": ""})

    def event(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._chunk({"content": event.text}) if event.text else b""
        if isinstance(event, ToolCallStarted):
            call = self._calls[event.id] = _Call(index=len(self._calls), name=event.name)
            first = {
                "index": call.index,
                "id": event.id,
                "type": "function",
                "function": {"name": event.name, "arguments": ""},
            }
            return self._chunk({"tool_calls": [first]})
        if isinstance(event, ToolCallDelta):
            return self._arguments(event.id, event.arguments_delta)
        if isinstance(event, ToolCallFinished):
            # Providers may finish a call with arguments they never streamed (Anthropic's
            # "{}" for a call without input); clients only see what the deltas carried.
            pending = self._calls.get(event.id)
            sent = "".join(pending.sent) if pending is not None else ""
            if pending is None or not event.arguments.startswith(sent):
                return b""
            return self._arguments(event.id, event.arguments[len(sent) :])
        if isinstance(event, Finish):
            return self._chunk({}, finish_reason=_FINISH_REASONS[event.reason])
        return b""  # Usage: sent at the end, when the client asked for it

    def end(self, usage: Usage | None) -> bytes:
        tail = b""
        if self._include_usage:
            tail = sse(self._frame([], usage=usage_object(usage)))
        return tail + DONE

    def _arguments(self, call_id: str, fragment: str) -> bytes:
        call = self._calls.get(call_id)
        if call is None or not fragment:
            return b""
        call.sent.append(fragment)
        delta = {"index": call.index, "function": {"arguments": fragment}}
        return self._chunk({"tool_calls": [delta]})

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return sse(self._frame([choice], usage=None))

    def _frame(self, choices: list[dict[str, Any]], usage: dict[str, int] | None) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": choices,
        }
        if self._include_usage:  # as OpenAI: with include_usage every chunk has the key
            frame["usage"] = usage
        return frame


class ChunkRelay:
    """An OpenAI upstream's own chunks passed on, each parsed once and written once.

    What changes on the way: `model` becomes our id in every chunk (the upstream names its
    own model, often a dated snapshot, so the chunk is parsed rather than patched as bytes);
    usage, which the relay always asks the upstream for, is dropped from every chunk when the
    client did not ask for it. Everything else (ids, tool calls, logprobs, refusals, fields
    added later) goes out as the upstream sent it.
    """

    def __init__(self, model: str, *, include_usage: bool) -> None:
        self._model = model
        self._include_usage = include_usage
        self._usage_sent = False
        self._last: dict[str, Any] | None = None
        self.usage: Usage | None = None
        self.finished = False
        """Whether a finish reason went by: what follows is the end of the answer."""

    def encode(self, chunks: list[dict[str, Any]]) -> bytes:
        frames: list[bytes] = []
        for chunk in chunks:
            usage = chunk.get("usage")
            if isinstance(usage, dict):
                self.usage = Usage(
                    _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
                )
            choices = chunk["choices"]
            if not self.finished:
                self.finished = any(c.get("finish_reason") is not None for c in choices)
            if self._include_usage:
                self._usage_sent = self._usage_sent or isinstance(usage, dict)
            elif "usage" in chunk:
                del chunk["usage"]
                if not choices:
                    continue  # the usage chunk only the relay asked for
            chunk["model"] = self._model
            self._last = chunk
            frames.append(event(json_bytes(chunk)))
        return b"".join(frames)

    def end(self) -> bytes:
        if not self._include_usage or self._usage_sent:
            return DONE
        # An upstream that ignored `include_usage` (some compatible servers do): the client
        # asked for the usage chunk, so it gets one, with what is known.
        last = self._last or {}
        frame: dict[str, Any] = {
            "id": last.get("id") or new_completion_id(),
            "object": "chat.completion.chunk",
            "created": last.get("created") or int(time.time()),
            "model": self._model,
            "choices": [],
            "usage": usage_object(self.usage),
        }
        return sse(frame) + DONE


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


class CompletionBuilder:
    """One non-streamed completion, assembled from the whole event stream."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._text: list[str] = []
        self._calls: dict[str, ToolCallFinished] = {}
        self._finish: FinishReason = "stop"

    def feed(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self._text.append(event.text)
        elif isinstance(event, ToolCallFinished):
            self._calls[event.id] = event
        elif isinstance(event, Finish):
            self._finish = event.reason

    def body(self, usage: Usage | None) -> dict[str, Any]:
        text = "".join(self._text)
        message: dict[str, Any] = {
            "role": "assistant",
            # OpenAI sends null, not "", beside tool calls when the model said nothing.
            "content": text if text or not self._calls else None,
            "refusal": None,
        }
        if self._calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self._calls.values()
            ]
        return {
            "id": new_completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self._model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": _FINISH_REASONS[self._finish],
                }
            ],
            "usage": usage_object(usage),
        }
