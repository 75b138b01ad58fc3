"""What our Anthropic provider puts on the wire, and how it reads Anthropic's stop reasons."""

from __future__ import annotations

import pytest

from everything_app.ai import (
    ChatMessage,
    Finish,
    FinishReason,
    ProviderError,
    ToolCall,
    ToolSpec,
    Usage,
)
from everything_app.ai.providers.anthropic import to_anthropic_messages
from everything_app.testing import Reply, ScriptedToolCall, ToolCalls

from .support import ANTHROPIC_KEY, Backend, collect, text_of

WEATHER_TOOL = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


async def test_request_separates_the_system_prompt_and_sends_tools(
    anthropic_backend: Backend,
) -> None:
    await collect(
        anthropic_backend.provider.stream(
            anthropic_backend.model,
            [
                ChatMessage("system", "Be brief."),
                ChatMessage("system", "Answer in French."),
                ChatMessage("user", "Hi"),
            ],
            tools=[WEATHER_TOOL],
        )
    )

    [request] = anthropic_backend.script.requests
    assert request.path == "/v1/messages"
    # SDK 2.x sends the key as a Bearer token; older ones used x-api-key. Either is the key.
    sent_key = request.headers.get("x-api-key") or request.headers["authorization"][7:]
    assert sent_key == ANTHROPIC_KEY
    assert request.headers["anthropic-version"]
    body = request.body
    assert body["model"] == "claude-haiku-4-5"
    assert body["stream"] is True
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    # Anthropic requires a limit: without one from the caller, the model's own ceiling.
    assert body["max_tokens"] == anthropic_backend.model.max_output_tokens
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": WEATHER_TOOL.parameters,
        }
    ]


async def test_usage_comes_from_message_start_and_message_delta(
    anthropic_backend: Backend,
) -> None:
    anthropic_backend.script.push(Reply("three words here", chunks=3))

    events = await collect(
        anthropic_backend.provider.stream(
            anthropic_backend.model,
            [ChatMessage("system", "Be brief."), ChatMessage("user", "Say three words")],
        )
    )

    # message_start reported 5 input tokens (2 system + 3 user) and 1 output token; the
    # cumulative count in message_delta (3) is the one that holds.
    assert events[-2:] == [Usage(input_tokens=5, output_tokens=3), Finish("stop")]


async def test_a_tool_round_trip_sends_results_as_tool_result_blocks(
    anthropic_backend: Backend,
) -> None:
    """The stand-in enforces Anthropic's pairing rule: every tool_use needs a tool_result in
    the very next (user) message. Two parallel calls must share that one message."""
    anthropic_backend.script.push(
        ToolCalls(
            calls=(
                ScriptedToolCall("get_weather", '{"city": "Paris"}', id="toolu_1"),
                ScriptedToolCall("get_weather", '{"city": "Lyon"}', id="toolu_2"),
            )
        )
    )
    question = ChatMessage("user", "Weather in Paris and Lyon?")
    first = await collect(
        anthropic_backend.provider.stream(anthropic_backend.model, [question], tools=[WEATHER_TOOL])
    )
    assert first[-1] == Finish("tool-calls")

    history = [
        question,
        ChatMessage(
            "assistant",
            "",
            tool_calls=[
                ToolCall("toolu_1", "get_weather", '{"city": "Paris"}'),
                ToolCall("toolu_2", "get_weather", '{"city": "Lyon"}'),
            ],
        ),
        ChatMessage("tool", "18°C", tool_call_id="toolu_1"),
        ChatMessage("tool", "21°C", tool_call_id="toolu_2"),
    ]
    second = await collect(
        anthropic_backend.provider.stream(anthropic_backend.model, history, tools=[WEATHER_TOOL])
    )

    assert text_of(second) == "Tool result received: 18°C 21°C"
    sent = anthropic_backend.script.requests[1].body["messages"]
    assert sent[1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "get_weather",
                    "input": {"city": "Lyon"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "21°C"},
            ],
        },
    ]


def test_consecutive_turns_of_one_role_are_merged() -> None:
    system, turns = to_anthropic_messages(
        [
            ChatMessage("user", "First"),
            ChatMessage("user", "Second"),
            ChatMessage("assistant", "Reply"),
        ]
    )

    assert system == ""
    assert turns == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "First"}, {"type": "text", "text": "Second"}],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "Reply"}]},
    ]


def test_stored_tool_arguments_must_be_a_json_object() -> None:
    with pytest.raises(ProviderError) as caught:
        to_anthropic_messages(
            [ChatMessage("assistant", "", tool_calls=[ToolCall("t1", "f", "[1, 2]")])]
        )
    assert caught.value.kind == "bad_request"

    _, turns = to_anthropic_messages(
        [ChatMessage("assistant", "", tool_calls=[ToolCall("t1", "f", "")])]
    )
    assert turns[0]["content"] == [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]


@pytest.mark.parametrize(
    ("wire", "ours"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool-calls"),
        ("refusal", "content-filter"),
        ("pause_turn", "other"),
    ],
)
async def test_stop_reasons(anthropic_backend: Backend, wire: str, ours: FinishReason) -> None:
    anthropic_backend.script.push(Reply("Text.", finish_reason=wire))

    events = await collect(
        anthropic_backend.provider.stream(anthropic_backend.model, [ChatMessage("user", "Hi")])
    )

    assert events[-1] == Finish(ours)
