"""A behaviour worked out into what to send, independent of the wire format.

Each stand-in renders a `Plan` in its own protocol, so both servers act out a script the same
way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from everything_app.testing.script import (
    Behaviour,
    ErrorMidStream,
    Fail,
    Malformed,
    Reply,
    Stall,
    ToolCalls,
    Truncate,
    count_tokens,
    split_text,
)

Ending = Literal["finish", "error", "malformed", "truncate", "stall"]
Stop = Literal["stop", "length", "tool"]


@dataclass(frozen=True, slots=True)
class PlannedCall:
    id: str
    name: str
    arguments: str
    fragments: list[str]


@dataclass(frozen=True, slots=True)
class Plan:
    text_chunks: list[str]
    calls: list[PlannedCall] = field(default_factory=list)
    ending: Ending = "finish"
    stop: Stop = "stop"
    finish_reason: str | None = None
    """A wire value that overrides the protocol's name for `stop`."""
    error_type: str | None = None
    error_message: str = ""
    resume: Plan | None = None
    """What follows a stall once released."""
    chunk_delay: float = 0.0

    @property
    def text(self) -> str:
        return "".join(self.text_chunks)

    @property
    def output_tokens(self) -> int:
        return count_tokens(self.text) + sum(count_tokens(c.arguments) for c in self.calls)


def make_plan(behaviour: Behaviour, *, max_tokens: int | None, call_id_prefix: str) -> Plan:
    if isinstance(behaviour, Fail):
        raise TypeError("A Fail is answered before any plan is made.")
    if isinstance(behaviour, Reply):
        return _reply(behaviour, max_tokens)
    if isinstance(behaviour, ToolCalls):
        calls = [
            PlannedCall(
                id=call.id or f"{call_id_prefix}{i}",
                name=call.name,
                arguments=call.arguments,
                fragments=split_text(call.arguments, behaviour.argument_chunks),
            )
            for i, call in enumerate(behaviour.calls)
        ]
        return Plan(text_chunks=split_text(behaviour.text, 2), calls=calls, stop="tool")
    if isinstance(behaviour, ErrorMidStream):
        return Plan(
            text_chunks=split_text(behaviour.text_before, 1),
            ending="error",
            error_type=behaviour.error_type,
            error_message=behaviour.message,
        )
    if isinstance(behaviour, Malformed):
        return Plan(text_chunks=split_text(behaviour.text_before, 1), ending="malformed")
    if isinstance(behaviour, Truncate):
        return Plan(text_chunks=split_text(behaviour.text_before, 1), ending="truncate")
    assert isinstance(behaviour, Stall)
    resume = _reply(behaviour.then or Reply(text="", chunks=1), max_tokens)
    return Plan(text_chunks=split_text(behaviour.text_before, 1), ending="stall", resume=resume)


def _reply(reply: Reply, max_tokens: int | None) -> Plan:
    text, stop = reply.text, "stop"
    # Honour the request's limit the way a model does: stop early and say why.
    if max_tokens is not None and count_tokens(text) > max_tokens:
        text, stop = " ".join(text.split()[:max_tokens]), "length"
    return Plan(
        text_chunks=split_text(text, reply.chunks),
        chunk_delay=reply.chunk_delay,
        stop="length" if stop == "length" else "stop",
        finish_reason=reply.finish_reason,
    )
