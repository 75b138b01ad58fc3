"""Behaviour both providers share, each run against its own stand-in through the real SDK."""

from __future__ import annotations

import asyncio
import json
import socket
from contextlib import aclosing

import pytest

from everything_app.ai import (
    ChatMessage,
    Finish,
    Provider,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolSpec,
    Usage,
)
from everything_app.ai.providers import NO_RETRY
from everything_app.ai.providers.anthropic import AnthropicProvider
from everything_app.ai.providers.openai import OpenAIProvider
from everything_app.testing import (
    ErrorMidStream,
    Fail,
    Malformed,
    Reply,
    ScriptedToolCall,
    Stall,
    ToolCalls,
    Truncate,
)

from .support import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    Backend,
    collect,
    collect_until_error,
    running_backend,
    text_of,
)

QUESTION = [ChatMessage("user", "What is the weather in Paris today")]  # 7 words
WEATHER_TOOL = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


async def test_text_streams_chunk_by_chunk_then_usage_then_finish(backend: Backend) -> None:
    backend.script.push(Reply("The weather in Paris is sunny.", chunks=4))

    events = await collect(backend.provider.stream(backend.model, QUESTION))

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == 4
    assert text_of(events) == "The weather in Paris is sunny."
    assert events[-2:] == [Usage(input_tokens=7, output_tokens=6), Finish("stop")]
    assert len(backend.script.requests) == 1


async def test_tool_calls_are_assembled_from_fragments(backend: Backend) -> None:
    backend.script.push(
        ToolCalls(
            text="Let me check.",
            calls=(
                ScriptedToolCall("get_weather", '{"city": "Paris"}', id="call_1"),
                ScriptedToolCall("get_weather", '{"city": "Lyon"}', id="call_2"),
            ),
            argument_chunks=4,
        )
    )

    events = await collect(backend.provider.stream(backend.model, QUESTION, tools=[WEATHER_TOOL]))

    assert text_of(events) == "Let me check."
    for call_id, arguments in (("call_1", '{"city": "Paris"}'), ("call_2", '{"city": "Lyon"}')):
        mine = [e for e in events if getattr(e, "id", None) == call_id]
        assert mine[0] == ToolCallStarted(id=call_id, name="get_weather")
        assert mine[-1] == ToolCallFinished(id=call_id, name="get_weather", arguments=arguments)
        fragments = [e.arguments_delta for e in mine if isinstance(e, ToolCallDelta)]
        assert len(fragments) == 4
        assert "".join(fragments) == arguments
        assert json.loads(arguments)["city"] in {"Paris", "Lyon"}
    assert events[-1] == Finish("tool-calls")
    assert isinstance(events[-2], Usage)


async def test_tool_call_without_arguments_finishes_with_empty_object(backend: Backend) -> None:
    backend.script.push(ToolCalls(calls=(ScriptedToolCall("get_time", "", id="call_t"),)))

    events = await collect(backend.provider.stream(backend.model, QUESTION))

    assert ToolCallFinished(id="call_t", name="get_time", arguments="{}") in events


async def test_max_tokens_is_sent_and_a_cut_answer_finishes_with_length(backend: Backend) -> None:
    backend.script.push(Reply("one two three four five", chunks=2))

    events = await collect(backend.provider.stream(backend.model, QUESTION, max_tokens=3))

    assert text_of(events) == "one two three"
    assert events[-1] == Finish("length")
    assert backend.script.requests[0].body["max_tokens"] == 3


@pytest.mark.parametrize(
    ("behaviour", "kind", "status"),
    [
        (Fail(401), "auth", 502),
        (Fail(403), "auth", 502),
        (Fail(400, message="prompt is too long"), "bad_request", 400),
        (Fail(404), "upstream", 502),
        (Fail(422), "bad_request", 400),
    ],
)
async def test_http_errors_before_streaming_map_to_provider_errors(
    backend: Backend, behaviour: Fail, kind: str, status: int
) -> None:
    backend.script.push(behaviour)

    with pytest.raises(ProviderError) as caught:
        await collect(backend.provider.stream(backend.model, QUESTION))

    assert (caught.value.kind, caught.value.status_code) == (kind, status)
    assert len(backend.script.requests) == 1, "not retryable, so asked once"
    if kind == "bad_request":
        assert behaviour.message in caught.value.message


async def test_rate_limit_carries_retry_after_and_is_not_waited_out_when_long(
    backend: Backend,
) -> None:
    backend.script.push(Fail(429, headers={"retry-after": "30"}))

    with pytest.raises(ProviderError) as caught:
        await collect(backend.provider.stream(backend.model, QUESTION))

    assert caught.value.kind == "rate_limited"
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 30.0
    assert caught.value.headers == {"Retry-After": "30"}
    assert len(backend.script.requests) == 1


async def test_server_errors_are_retried_until_the_policy_gives_up(backend: Backend) -> None:
    backend.script.push(Fail(500), Fail(503), Fail(500), Reply("never sent"))

    with pytest.raises(ProviderError) as caught:
        await collect(backend.provider.stream(backend.model, QUESTION))

    assert (caught.value.kind, caught.value.status_code) == ("upstream", 502)
    assert len(backend.script.requests) == 3  # the first try and two retries


async def test_a_failure_before_the_first_event_is_retried(backend: Backend) -> None:
    backend.script.push(Fail(500), Fail(429, headers={"retry-after": "0"}), Reply("Recovered."))

    events = await collect(backend.provider.stream(backend.model, QUESTION))

    assert text_of(events) == "Recovered."
    assert events[-1] == Finish("stop")
    assert len(backend.script.requests) == 3


async def test_a_stream_cut_before_any_text_is_retried(backend: Backend) -> None:
    backend.script.push(Truncate(text_before=""), Reply("Second try."))

    events = await collect(backend.provider.stream(backend.model, QUESTION))

    assert text_of(events) == "Second try."
    assert len(backend.script.requests) == 2


async def test_an_error_after_the_first_token_is_raised_not_retried(backend: Backend) -> None:
    backend.script.push(ErrorMidStream(text_before="Partial"), Reply("must not be sent"))
    seen: list[StreamEvent] = []

    with pytest.raises(ProviderError) as caught:
        await collect_until_error(backend.provider.stream(backend.model, QUESTION), seen)

    assert seen == [TextDelta("Partial")]
    assert (caught.value.kind, caught.value.status_code) == ("upstream", 502)
    assert len(backend.script.requests) == 1


async def test_a_rate_limit_error_event_inside_the_stream(backend: Backend) -> None:
    error_type = "rate_limit_exceeded" if backend.name == "openai" else "rate_limit_error"
    backend.script.push(ErrorMidStream(text_before="Partial", error_type=error_type))

    with pytest.raises(ProviderError) as caught:
        await collect(backend.provider.stream(backend.model, QUESTION))

    assert (caught.value.kind, caught.value.status_code) == ("rate_limited", 429)


async def test_a_malformed_event_is_reported_and_not_retried(backend: Backend) -> None:
    backend.script.push(Malformed(text_before=""), Reply("must not be sent"))

    with pytest.raises(ProviderError) as caught:
        await collect(backend.provider.stream(backend.model, QUESTION))

    assert (caught.value.kind, caught.value.status_code) == ("malformed", 502)
    assert len(backend.script.requests) == 1


async def test_a_stream_that_ends_without_finishing_is_an_error(backend: Backend) -> None:
    backend.script.push(Truncate(text_before="Half an"))
    seen: list[StreamEvent] = []

    with pytest.raises(ProviderError) as caught:
        await collect_until_error(backend.provider.stream(backend.model, QUESTION), seen)

    assert seen == [TextDelta("Half an")]
    assert caught.value.kind == "upstream"
    assert "ended before it was complete" in caught.value.message


async def test_a_wrong_server_key_is_an_auth_error(backend: Backend) -> None:
    async with running_backend(backend.name, api_key="sk-wrong") as wrong:
        with pytest.raises(ProviderError) as caught:
            await collect(wrong.provider.stream(wrong.model, QUESTION))

    assert (caught.value.kind, caught.value.status_code) == ("auth", 502)
    assert "sk-wrong" not in caught.value.message


async def test_closing_the_stream_early_closes_the_upstream_response(backend: Backend) -> None:
    backend.script.push(Stall(text_before="Hello"))

    async with aclosing(backend.provider.stream(backend.model, QUESTION)) as events:
        assert await anext(events) == TextDelta("Hello")
        await backend.script.stalled.wait()
        assert not backend.script.disconnected.is_set()

    # The stand-in sees the client leave; the timeout only bounds a failing test.
    await asyncio.wait_for(backend.script.disconnected.wait(), timeout=5)
    assert backend.script.disconnects == 1


async def test_cancelling_the_consumer_closes_the_upstream_response(backend: Backend) -> None:
    backend.script.push(Stall(text_before="Hello"))
    first = asyncio.Event()
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in backend.provider.stream(backend.model, QUESTION):
            seen.append(event)
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    await backend.script.stalled.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await asyncio.wait_for(backend.script.disconnected.wait(), timeout=5)
    assert seen == [TextDelta("Hello")]
    assert len(backend.script.requests) == 1


async def test_a_stalled_stream_resumes_when_released(backend: Backend) -> None:
    backend.script.push(Stall(text_before="Hello", then=Reply(" world", chunks=1)))

    async with aclosing(backend.provider.stream(backend.model, QUESTION)) as events:
        assert await anext(events) == TextDelta("Hello")
        backend.script.release()
        rest = await collect(events)

    assert rest[0] == TextDelta(" world")
    assert rest[-1] == Finish("stop")
    assert not backend.script.disconnected.is_set()


async def test_a_silent_upstream_times_out(backend: Backend) -> None:
    async with running_backend(backend.name, request_timeout=0.3, retry=NO_RETRY) as slow:
        slow.script.push(Stall())
        with pytest.raises(ProviderError) as caught:
            await collect(slow.provider.stream(slow.model, QUESTION))
        await asyncio.wait_for(slow.script.disconnected.wait(), timeout=5)

    assert (caught.value.kind, caught.value.status_code) == ("timeout", 504)


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_an_unreachable_upstream_is_unavailable(name: str) -> None:
    # A port that was free a moment ago and has nothing listening now: connection refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    provider: Provider = (
        OpenAIProvider(api_key="k", base_url=f"{url}/v1", retry=NO_RETRY)
        if name == "openai"
        else AnthropicProvider(api_key="k", base_url=url, retry=NO_RETRY)
    )
    model = OPENAI_MODEL if name == "openai" else ANTHROPIC_MODEL
    try:
        with pytest.raises(ProviderError) as caught:
            await collect(provider.stream(model, QUESTION))
    finally:
        await provider.aclose()

    assert (caught.value.kind, caught.value.status_code) == ("unavailable", 503)
