"""What a stand-in server does next, and what it saw.

Tests queue behaviours on a `Script` (`script.push(Fail(500), Reply("ok"))`); each request
takes the next one. With the queue empty, the last user message picks the behaviour, so a
stand-in running in another process can be driven too:

- `[[fail:429]]` (any status) → that error before streaming
- `[[tool:get_weather {"city": "Paris"}]]` → a call to that tool with those arguments
- `[[error]]` → some text, then an error event inside the stream
- `[[malformed]]` → some text, then an event that is not JSON
- `[[truncate]]` → some text, then the stream ends without finishing
- `[[stall]]` → some text, then nothing until released or disconnected
- `[[slow:MS]]` → `Echo: <the message>` one word per chunk, MS milliseconds apart
- anything else → `Echo: <the message>` in three chunks

A conversation that ends in a tool result is answered with `Tool result received: …`.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    """A normal text answer, streamed in `chunks` pieces."""

    text: str = "Hello from the stand-in."
    chunks: int = 3
    finish_reason: str | None = None
    """The wire value to finish with (e.g. "length"); None for the protocol's normal stop."""
    chunk_delay: float = 0.0
    """Seconds between chunks: a slow model (time to first token is unaffected)."""


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    name: str
    arguments: str = "{}"
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """Optional text, then one or more tool calls whose arguments stream in fragments."""

    calls: tuple[ScriptedToolCall, ...]
    text: str = ""
    argument_chunks: int = 3


@dataclass(frozen=True, slots=True)
class Fail:
    """An HTTP error before any streaming; `error_type` defaults to the protocol's usual one."""

    status: int
    message: str = "The stand-in was told to fail."
    error_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ErrorMidStream:
    """`text_before`, then the protocol's in-stream error event."""

    text_before: str = "Partial answer"
    error_type: str | None = None
    message: str = "The stand-in failed mid-stream."


@dataclass(frozen=True, slots=True)
class Malformed:
    """`text_before`, then an event whose data is not JSON."""

    text_before: str = "Partial answer"


@dataclass(frozen=True, slots=True)
class Truncate:
    """`text_before`, then the body ends without a finish reason or end marker."""

    text_before: str = "Partial answer"


@dataclass(frozen=True, slots=True)
class Stall:
    """`text_before`, then wait for `Script.release()` (or the client leaving), then `then`."""

    text_before: str = ""
    then: Reply | None = None


Behaviour = Reply | ToolCalls | Fail | ErrorMidStream | Malformed | Truncate | Stall


@dataclass(frozen=True, slots=True)
class ToolDemand:
    """A request's `tool_choice`, whatever its wire format: the tool the model must call (the
    named one, or the first offered when any will do), or whether it may call one at all."""

    must_call: str | None = None
    may_call: bool = True


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


class Script:
    """The queue of behaviours and the record of requests for one stand-in server."""

    def __init__(self) -> None:
        self._queue: deque[Behaviour] = deque()
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.disconnected = asyncio.Event()
        """Set when a client left a stream before it ended."""
        self.stalled = asyncio.Event()
        """Set when a `Stall` is reached, i.e. the text before it has been sent."""
        self._release = asyncio.Event()

    def push(self, *behaviours: Behaviour) -> None:
        self._queue.extend(behaviours)

    def release(self) -> None:
        """Let every current and future `Stall` continue."""
        self._release.set()

    async def wait_released(self) -> None:
        await self._release.wait()

    def record(self, request: RecordedRequest) -> None:
        self.requests.append(request)

    def client_left(self) -> None:
        self.disconnects += 1
        self.disconnected.set()

    def next_behaviour(
        self,
        last_user_text: str,
        tool_result: str | None = None,
        choice: ToolDemand | None = None,
    ) -> Behaviour:
        """The queued behaviour, else one chosen by the conversation and the request's
        `tool_choice` (a model told to call a tool calls it; one told not to, does not).

        When the conversation ends in a tool result, the answer acknowledges it, so a client
        looping on tool calls ends after one round even though `[[tool:…]]` is still in the
        user's message.
        """
        if self._queue:
            return self._queue.popleft()
        if tool_result is not None:
            return Reply(text=f"Tool result received: {tool_result}")
        behaviour = behaviour_from_text(last_user_text)
        if choice is not None and choice.must_call and isinstance(behaviour, Reply):
            return ToolCalls(calls=(ScriptedToolCall(choice.must_call),))
        if choice is not None and not choice.may_call and isinstance(behaviour, ToolCalls):
            return Reply(text=f"Echo: {last_user_text}")
        return behaviour


_TRIGGER = re.compile(r"\[\[(\w+)(?::([\w-]+))?(?:\s+(.*?))?\]\]", re.DOTALL)


def behaviour_from_text(text: str) -> Behaviour:
    match = _TRIGGER.search(text)
    if match is None:
        return Reply(text=f"Echo: {text}")
    name, argument, rest = match.group(1), match.group(2) or "", (match.group(3) or "").strip()
    if name == "fail":
        return Fail(status=int(argument) if argument.isdigit() else 500)
    if name == "tool":
        if not argument:
            return Fail(status=400, message="[[tool:NAME {json}]] needs a tool name.")
        return ToolCalls(calls=(ScriptedToolCall(argument, rest or "{}"),))
    if name == "slow":
        words = max(1, len(text.split()))
        delay = int(argument) / 1000 if argument.isdigit() else 0.05
        return Reply(text=f"Echo: {text}", chunks=words + 1, chunk_delay=delay)
    simple: dict[str, Behaviour] = {
        "error": ErrorMidStream(),
        "malformed": Malformed(),
        "truncate": Truncate(),
        "stall": Stall(text_before="Partial answer"),
    }
    return simple.get(name, Reply(text=f"Echo: {text}"))


def split_text(text: str, pieces: int) -> list[str]:
    """`text` cut into at most `pieces` non-empty parts that join back to it."""
    if not text:
        return []
    size = math.ceil(len(text) / max(1, pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def count_tokens(text: str) -> int:
    """The stand-ins' token count: whitespace-separated words. Deterministic for tests."""
    return len(text.split())


def text_of(content: Any) -> str:
    """The text in a message's content, whether a string or a list of blocks/parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for block in content:
            if isinstance(block, dict):
                if isinstance(block.get("text"), str):
                    parts.append(block["text"])
                elif "content" in block:  # tool_result blocks nest their content
                    parts.append(text_of(block["content"]))
                elif "input" in block:  # tool_use blocks
                    parts.append(json.dumps(block["input"]))
        return " ".join(parts)
    return ""
