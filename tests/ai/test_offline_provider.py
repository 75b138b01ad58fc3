"""The built-in assistant: no key, no network, and honest about it."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing

from everything_app.ai import (
    ChatMessage,
    Finish,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolSpec,
    Usage,
)
from everything_app.ai.models import OFFLINE_MODEL
from everything_app.ai.providers.offline import NOT_CONFIGURED, OfflineProvider, Reply

from .support import collect, text_of

HELLO = [ChatMessage("system", "Be nice."), ChatMessage("user", "Hello there")]


async def test_it_says_no_model_is_configured_word_by_word() -> None:
    events = await collect(OfflineProvider().stream(OFFLINE_MODEL, HELLO))

    assert text_of(events) == NOT_CONFIGURED
    assert "OPENAI_API_KEY" in NOT_CONFIGURED
    assert "ANTHROPIC_API_KEY" in NOT_CONFIGURED
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == len(NOT_CONFIGURED.split())
    assert all(len(d.text.split()) == 1 for d in deltas)
    assert events[-2:] == [
        Usage(input_tokens=4, output_tokens=len(NOT_CONFIGURED.split())),
        Finish("stop"),
    ]


async def test_max_tokens_cuts_the_answer_with_length() -> None:
    events = await collect(OfflineProvider().stream(OFFLINE_MODEL, HELLO, max_tokens=3))

    assert text_of(events) == " ".join(NOT_CONFIGURED.split()[:3]) + " "
    assert events[-2:] == [Usage(input_tokens=4, output_tokens=3), Finish("length")]


async def test_a_rule_can_answer_with_a_tool_call() -> None:
    def schedule(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Reply | None:
        if "dentist" not in messages[-1].content:
            return None
        call = ToolCall(id="call_1", name="create_event", arguments='{"title": "Dentist"}')
        return Reply(text="Adding it.", tool_calls=[call])

    provider = OfflineProvider(rules=[schedule])

    events = await collect(
        provider.stream(OFFLINE_MODEL, [ChatMessage("user", "dentist at 3pm tomorrow")])
    )

    assert text_of(events) == "Adding it."
    assert events[2:] == [
        ToolCallStarted(id="call_1", name="create_event"),
        ToolCallDelta(id="call_1", arguments_delta='{"title": "Dentist"}'),
        ToolCallFinished(id="call_1", name="create_event", arguments='{"title": "Dentist"}'),
        Usage(input_tokens=4, output_tokens=4),
        Finish("tool-calls"),
    ]
    # A sentence no rule claims falls back to the honest default.
    fallback = await collect(provider.stream(OFFLINE_MODEL, HELLO))
    assert text_of(fallback) == NOT_CONFIGURED


async def test_it_can_be_closed_part_way() -> None:
    provider = OfflineProvider()
    async with aclosing(provider.stream(OFFLINE_MODEL, HELLO)) as events:
        assert await anext(events) == TextDelta("No ")
    await provider.aclose()
