"""What our OpenAI provider puts on the wire, and how it reads OpenAI's finish reasons."""

from __future__ import annotations

import pytest

from everything_app.ai import ChatMessage, Finish, FinishReason, ProviderError, ToolCall, ToolSpec
from everything_app.testing import Reply, ScriptedToolCall, ToolCalls

from .support import OPENAI_KEY, Backend, collect, text_of

WEATHER_TOOL = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


async def test_request_is_a_streamed_chat_completion_with_usage(openai_backend: Backend) -> None:
    await collect(
        openai_backend.provider.stream(
            openai_backend.model,
            [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")],
            tools=[WEATHER_TOOL],
        )
    )

    [request] = openai_backend.script.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": WEATHER_TOOL.parameters,
            },
        }
    ]
    assert "max_tokens" not in body
    assert "max_completion_tokens" not in body


async def test_a_tool_round_trip_is_accepted_by_openais_ordering_rules(
    openai_backend: Backend,
) -> None:
    """The stand-in rejects tool messages that do not answer a preceding tool call, as
    OpenAI does; a conversation we built from our own events must pass."""
    openai_backend.script.push(
        ToolCalls(calls=(ScriptedToolCall("get_weather", '{"city": "Paris"}', id="call_9"),))
    )
    question = ChatMessage("user", "Weather in Paris?")
    first = await collect(
        openai_backend.provider.stream(openai_backend.model, [question], tools=[WEATHER_TOOL])
    )
    assert first[-1] == Finish("tool-calls")

    history = [
        question,
        ChatMessage(
            "assistant",
            "",
            tool_calls=[ToolCall(id="call_9", name="get_weather", arguments='{"city": "Paris"}')],
        ),
        ChatMessage("tool", "18°C and sunny", tool_call_id="call_9"),
    ]
    second = await collect(
        openai_backend.provider.stream(openai_backend.model, history, tools=[WEATHER_TOOL])
    )

    assert text_of(second) == "Tool result received: 18°C and sunny"
    sent = openai_backend.script.requests[1].body["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_9",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "tool_call_id": "call_9", "content": "18°C and sunny"}


async def test_an_unanswered_tool_call_in_history_is_a_bad_request(
    openai_backend: Backend,
) -> None:
    history = [
        ChatMessage("user", "Weather?"),
        ChatMessage("assistant", "", tool_calls=[ToolCall("call_1", "get_weather", "{}")]),
        ChatMessage("user", "Hello?"),
    ]
    with pytest.raises(ProviderError) as caught:
        await collect(openai_backend.provider.stream(openai_backend.model, history))

    assert caught.value.kind == "bad_request"
    assert "call_1" in caught.value.message


@pytest.mark.parametrize(
    ("wire", "ours"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool-calls"),
        ("content_filter", "content-filter"),
        ("something_new", "other"),
    ],
)
async def test_finish_reasons(openai_backend: Backend, wire: str, ours: FinishReason) -> None:
    openai_backend.script.push(Reply("Text.", finish_reason=wire))

    events = await collect(
        openai_backend.provider.stream(openai_backend.model, [ChatMessage("user", "Hi")])
    )

    assert events[-1] == Finish(ours)
