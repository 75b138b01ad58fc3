"""The built-in assistant that needs no key and no network.

It is a small rule-based responder: each rule looks at the conversation and may return a
`Reply` (text and/or tool calls); the first that does wins. Today there is one honest rule, that
no model is configured; rules that turn planner sentences into tool calls slot in ahead of it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from everything_app.ai.models import ModelSpec
from everything_app.ai.types import (
    ChatMessage,
    Finish,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolChoice,
    ToolSpec,
    Usage,
)

NOT_CONFIGURED = (
    "No AI model is configured on this server, so this is the built-in offline assistant. "
    "Set OPENAI_API_KEY (or OPENAI_BASE_URL for any OpenAI-compatible server such as Ollama) "
    "or ANTHROPIC_API_KEY, then restart the server to chat with a real model."
)


@dataclass(frozen=True, slots=True)
class Reply:
    text: str = ""
    tool_calls: Sequence[ToolCall] = field(default_factory=tuple)


class Rule(Protocol):
    def __call__(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
    ) -> Reply | None: ...


def not_configured(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Reply:
    return Reply(text=NOT_CONFIGURED)


DEFAULT_RULES: tuple[Rule, ...] = (not_configured,)


class OfflineRules:
    """What features teach the offline assistant (the planner's sentence parser), offered in
    their register step (`registry[OfflineRules].add(...)`); tried in order before the
    defaults. Adding a name again replaces its rule."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def add(self, name: str, rule: Rule) -> None:
        self._rules[name] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())


class OfflineProvider:
    def __init__(self, rules: Sequence[Rule] = DEFAULT_RULES) -> None:
        self._rules = tuple(rules)

    def stream(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        # Offline answers follow rules, not a model: "none" withholds the tools; a rule that
        # calls a tool does so whether or not one is required.
        offered = () if tool_choice is not None and tool_choice.mode == "none" else tools
        return self._stream(messages, offered, max_tokens)

    async def aclose(self) -> None:
        return None

    def respond(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Reply:
        for rule in self._rules:
            reply = rule(messages, tools)
            if reply is not None:
                return reply
        return not_configured(messages, tools)

    async def _stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], max_tokens: int | None
    ) -> AsyncGenerator[StreamEvent, None]:
        reply = self.respond(messages, tools)
        # Words stand in for tokens: honest enough for usage figures and limits offline.
        words = re.findall(r"\S+\s*", reply.text)
        truncated = max_tokens is not None and len(words) > max_tokens
        if truncated:
            words = words[:max_tokens]
        for word in words:
            yield TextDelta(word)
            # Hand the loop back between words, as a network stream would, so a cancelled
            # consumer stops us promptly.
            await asyncio.sleep(0)
        output_tokens = len(words)
        if not truncated:
            for call in reply.tool_calls:
                yield ToolCallStarted(id=call.id, name=call.name)
                yield ToolCallDelta(id=call.id, arguments_delta=call.arguments)
                yield ToolCallFinished(id=call.id, name=call.name, arguments=call.arguments)
                output_tokens += count_tokens(call.arguments)
        yield Usage(
            input_tokens=sum(count_tokens(m.content) for m in messages),
            output_tokens=output_tokens,
        )
        if truncated:
            yield Finish("length")
        else:
            yield Finish("tool-calls" if reply.tool_calls else "stop")


def count_tokens(text: str) -> int:
    return len(text.split())
