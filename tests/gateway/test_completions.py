"""`/v1/chat/completions` and `/v1/models` through the real `openai` SDK, sync and async."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from everything_app.ai.providers.offline import NOT_CONFIGURED
from everything_app.testing import Reply, ScriptedToolCall, ToolCalls

from .conftest import Gateway, GatewayFactory, complete, stream


def function_tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }


WEATHER_TOOL = function_tool("get_weather")


async def test_models_are_listed_and_retrieved_as_openai_does(gateway: Gateway) -> None:
    client = gateway.client(await gateway.user_key())

    listed = await asyncio.to_thread(client.models.list)
    one = await asyncio.to_thread(client.models.retrieve, "gpt-4o")

    assert [m.id for m in listed.data] == ["gpt-4o-mini", "gpt-4o", "offline"]
    assert {m.object for m in listed.data} == {"model"}
    assert listed.data[0].owned_by == "openai"
    assert isinstance(listed.data[0].created, int)
    assert (one.id, one.object) == ("gpt-4o", "model")
    with pytest.raises(openai.NotFoundError):
        await asyncio.to_thread(client.models.retrieve, "gpt-5-imaginary")


async def test_a_completion_and_its_usage_row(gateway: Gateway) -> None:
    session = await gateway.sign_up()
    key = await gateway.new_key(session)
    gateway.script.push(Reply("Hello there, friend.", chunks=3))
    client = gateway.client(key["key"])

    completion = await complete(
        client,
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello please"},
        ],
    )

    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    [choice] = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello there, friend."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (5, 3)
    assert completion.usage.total_tokens == 8
    upstream = gateway.script.requests[0].body
    assert upstream["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello please"},
    ]
    [row] = await gateway.usage_rows()
    assert str(row.api_key_id) == key["id"]
    assert (row.model, row.input_tokens, row.output_tokens, row.status) == (
        "gpt-4o-mini",
        5,
        3,
        "complete",
    )


async def test_a_stream_with_include_usage(gateway: Gateway) -> None:
    key = await gateway.user_key()
    gateway.script.push(Reply("one two three four", chunks=4))
    client = gateway.client(key)

    chunks = await stream(
        client,
        model="gpt-4o",
        messages=[{"role": "user", "content": "count"}],
        stream_options={"include_usage": True},
    )

    assert len({c.id for c in chunks}) == 1
    assert chunks[0].id.startswith("chatcmpl-")
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert {c.model for c in chunks} == {"gpt-4o"}
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finish[-1] == "stop"
    assert all(reason is None for reason in finish[:-1])
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (1, 4)
    assert all(c.usage is None for c in chunks[:-1])
    [row] = await gateway.usage_rows()
    assert (row.input_tokens, row.output_tokens, row.status) == (1, 4, "complete")


async def test_a_stream_on_the_wire(gateway: Gateway) -> None:
    """Byte-level: SSE framing, `[DONE]`, and no usage key without include_usage."""
    key = await gateway.user_key()
    gateway.script.push(Reply("Hi", chunks=1))

    response = await gateway.http.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": True},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    body = response.text
    assert body.endswith("data: [DONE]\n\n")
    events = body[:-2].split("\n\n")
    assert all(e.startswith("data: ") for e in events)
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "Hi"},
        {},
    ]
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_streamed_tool_calls_are_shaped_as_openai_sends_them(gateway: Gateway) -> None:
    key = await gateway.user_key()
    gateway.script.push(
        ToolCalls(
            text="Checking.",
            calls=(
                ScriptedToolCall("get_weather", '{"city": "Paris"}', id="call_a"),
                ScriptedToolCall("get_weather", '{"city": "Lyon"}', id="call_b"),
            ),
            argument_chunks=3,
        )
    )
    client = gateway.client(key)

    chunks = await stream(
        client,
        model="gpt-4o",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
    )

    calls = [d for c in chunks for d in c.choices[0].delta.tool_calls or ()]
    firsts = [d for d in calls if d.id is not None]
    assert [(d.index, d.id, d.type) for d in firsts] == [
        (0, "call_a", "function"),
        (1, "call_b", "function"),
    ]
    assert all(d.function is not None and d.function.name == "get_weather" for d in firsts)
    later = [d for d in calls if d.id is None]
    assert all(d.type is None and d.function and d.function.name is None for d in later)
    for index, expected in ((0, '{"city": "Paris"}'), (1, '{"city": "Lyon"}')):
        fragments = [d.function.arguments or "" for d in calls if d.index == index and d.function]
        assert "".join(fragments) == expected
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    upstream = gateway.script.requests[0].body
    assert upstream["tools"][0]["function"]["name"] == "get_weather"


async def test_tool_calls_without_streaming_and_a_round_trip(gateway: Gateway) -> None:
    key = await gateway.user_key()
    gateway.script.push(
        ToolCalls(calls=(ScriptedToolCall("get_weather", '{"city": "Paris"}', id="call_9"),))
    )
    client = gateway.client(key)
    question = {"role": "user", "content": "Weather in Paris?"}

    first = await complete(
        client,
        model="gpt-4o-mini",
        messages=[question],
        tools=[WEATHER_TOOL],
    )
    [call] = first.choices[0].message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls"
    assert first.choices[0].message.content is None
    assert call.type == "function"
    assert (call.id, call.function.name) == ("call_9", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    second = await complete(
        client,
        model="gpt-4o-mini",
        messages=[
            question,
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": "call_9", "content": "18°C and sunny"},
        ],
        tools=[WEATHER_TOOL],
    )

    # The stand-in enforces OpenAI's ordering rules, so the history went up intact.
    assert second.choices[0].message.content == "Tool result received: 18°C and sunny"
    sent = gateway.script.requests[1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == "call_9"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_9", "content": "18°C and sunny"}


# A request's `tool_choice` as it reaches each upstream, and a question that would get a
# plain answer: what the model must do instead.
TOOL_CHOICES: list[tuple[Any, Any, Any, str | None]] = [
    ("auto", "auto", {"type": "auto"}, None),
    ("required", "required", {"type": "any"}, "get_weather"),
    (
        {"type": "function", "function": {"name": "get_time"}},
        {"type": "function", "function": {"name": "get_time"}},
        {"type": "tool", "name": "get_time"},
        "get_time",
    ),
    ("none", "none", {"type": "none"}, None),
]


@pytest.mark.parametrize("upstream", ["openai", "anthropic"])
@pytest.mark.parametrize(("choice", "on_openai", "on_anthropic", "called"), TOOL_CHOICES)
async def test_tool_choice_reaches_the_model(
    start_gateway: GatewayFactory,
    upstream: str,
    choice: Any,
    on_openai: Any,
    on_anthropic: Any,
    called: str | None,
) -> None:
    gateway = await start_gateway(upstream=(upstream,))
    standin = gateway.openai_standin if upstream == "openai" else gateway.anthropic_standin
    assert standin is not None
    client = gateway.client(await gateway.user_key())
    model = "gpt-4o-mini" if upstream == "openai" else "claude-haiku-4-5"

    completion = await complete(
        client,
        model=model,
        messages=[{"role": "user", "content": "What is the weather like?"}],
        tools=[WEATHER_TOOL, function_tool("get_time")],
        tool_choice=choice,
    )

    sent = standin.script.requests[-1].body
    assert sent["tool_choice"] == (on_openai if upstream == "openai" else on_anthropic)
    assert len(sent["tools"]) == 2  # every tool is offered, whatever the choice
    calls = completion.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls if c.type == "function"] == ([called] if called else [])
    assert completion.choices[0].finish_reason == ("tool_calls" if called else "stop")


async def test_none_still_offers_the_tools_a_conversation_already_used(
    start_gateway: GatewayFactory,
) -> None:
    """Anthropic refuses tool calls in the history without their definitions: "none" keeps
    the tools and tells the model not to call them."""
    gateway = await start_gateway(upstream=("anthropic",))
    client = gateway.client(await gateway.user_key())
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
    ]
    completion = await complete(
        client,
        model="claude-haiku-4-5",
        messages=messages,
        tools=[WEATHER_TOOL],
        tool_choice="none",
    )
    assert completion.choices[0].message.content == "Tool result received: Sunny"


async def test_max_tokens_is_capped_by_the_models_limit(gateway: Gateway) -> None:
    key = await gateway.user_key()
    client = gateway.client(key)
    messages = [{"role": "user", "content": "hi"}]

    await complete(client, model="gpt-4o", messages=messages, max_tokens=10**6)
    await complete(
        client,
        model="gpt-4o",
        messages=messages,
        max_completion_tokens=7,
    )
    await complete(client, model="gpt-4o", messages=messages)

    # The upstream is a compatible server (not api.openai.com), so the limit goes as max_tokens.
    assert [r.body["max_tokens"] for r in gateway.script.requests] == [16_384, 7, 16_384]


async def test_content_parts_and_developer_messages(gateway: Gateway) -> None:
    key = await gateway.user_key()
    client = gateway.client(key)

    await complete(
        client,
        model="gpt-4o",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}],
            },
        ],
        temperature=0.2,  # accepted and not forwarded: the provider layer has no such knob
    )

    assert gateway.script.requests[0].body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first\nsecond"},
    ]


async def test_the_async_client_streams_and_completes(gateway: Gateway) -> None:
    key = await gateway.user_key()
    gateway.script.push(Reply("async hello", chunks=2), Reply("plain", chunks=1))
    client = gateway.async_client(key)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]

    try:
        chunks = [
            chunk
            async for chunk in await client.chat.completions.create(
                model="gpt-4o",
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
        ]
        completion = await client.chat.completions.create(model="gpt-4o", messages=messages)
    finally:
        await client.close()

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "async hello"
    assert chunks[-1].usage is not None
    assert completion.choices[0].message.content == "plain"
    assert [r.status for r in await gateway.usage_rows()] == ["complete", "complete"]


async def test_the_offline_model_needs_no_upstream(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(upstream=())
    client = gateway.client(await gateway.user_key())

    listed = await asyncio.to_thread(client.models.list)
    completion = await complete(
        client,
        model="offline",
        messages=[{"role": "user", "content": "hello"}],
    )
    chunks = await stream(client, model="offline", messages=[{"role": "user", "content": "hello"}])

    assert [m.id for m in listed.data] == ["offline"]
    assert completion.choices[0].message.content == NOT_CONFIGURED
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == NOT_CONFIGURED
    rows = await gateway.usage_rows()
    assert [(r.model, r.status) for r in rows] == [("offline", "complete")] * 2
    assert rows[0].output_tokens == len(NOT_CONFIGURED.split())


async def test_an_anthropic_model_behind_the_same_api(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway(upstream=("anthropic",))
    assert gateway.anthropic_standin is not None
    gateway.anthropic_standin.script.push(
        ToolCalls(
            text="Let me look.",
            calls=(ScriptedToolCall("get_weather", '{"city": "Oslo"}', id="toolu_1"),),
        )
    )
    client = gateway.client(await gateway.user_key())

    chunks = await stream(
        client,
        model="claude-haiku-4-5",
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=[WEATHER_TOOL],
        stream_options={"include_usage": True},
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or ()]
    assert text == "Let me look."
    assert calls[0].id == "toolu_1"
    assert "".join(d.function.arguments or "" for d in calls if d.function) == '{"city": "Oslo"}'
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens > 0
