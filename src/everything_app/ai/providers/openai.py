"""OpenAI Chat Completions (and any OpenAI-compatible server), read as raw server-sent events.

The request goes out through `upstream.Upstream` (aiohttp) rather than the official SDK: see
that module for why. Errors keep the meaning the SDK gave them (`errors`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic_core import from_json, to_json

from everything_app.ai.models import ModelSpec
from everything_app.ai.providers import errors
from everything_app.ai.providers.base import OpenAIChunk, RetryPolicy, stream_with_retry
from everything_app.ai.providers.sse import EventReader
from everything_app.ai.providers.upstream import Upstream
from everything_app.ai.types import (
    ChatMessage,
    Finish,
    FinishReason,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolChoice,
    ToolSpec,
    Usage,
)

NAME = "OpenAI"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "function_call": "tool-calls",
    "content_filter": "content-filter",
}


class OpenAIProvider:
    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        # Local OpenAI-compatible servers take no key: then no Authorization header is sent.
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._upstream = Upstream(NAME, base_url or DEFAULT_BASE_URL, headers, timeout)
        # OpenAI itself wants `max_completion_tokens` (newer models reject `max_tokens`);
        # compatible servers widely understand only `max_tokens`.
        is_openai = base_url is None or urlsplit(base_url).hostname == "api.openai.com"
        self._tokens_param = "max_completion_tokens" if is_openai else "max_tokens"
        self._retry = retry or RetryPolicy()

    def stream(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        return stream_with_retry(
            lambda: self._events(model, messages, tools, tool_choice, max_tokens), self._retry
        )

    def chunks(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[list[OpenAIChunk], None]:
        """The upstream's own chunks, for a client that speaks OpenAI too (the gateway).

        One list per network read, so a relay writes what arrived together in one go. The
        opening chunks (the role, empty content) are held until something follows them, so
        a failure before the answer starts is still retried and still an HTTP error. Every
        chunk has a `choices` list; usage arrives as OpenAI sends it (the request asks for
        it). Raises `ProviderError` for an error event, garbage, or an answer cut short.
        """
        return stream_with_retry(
            lambda: self._chunks(model, messages, tools, tool_choice, max_tokens, hold=True),
            self._retry,
        )

    async def aclose(self) -> None:
        await self._upstream.aclose()

    async def _events(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec],
        tool_choice: ToolChoice | None,
        max_tokens: int | None,
    ) -> AsyncGenerator[StreamEvent, None]:
        assembler = _Assembler()
        attempt = self._chunks(model, messages, tools, tool_choice, max_tokens, hold=False)
        async with aclosing(attempt) as batches:
            async for batch in batches:
                for chunk in batch:
                    for event in assembler.feed(chunk):
                        yield event
        for event in assembler.finish():
            yield event

    async def _chunks(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec],
        tool_choice: ToolChoice | None,
        max_tokens: int | None,
        *,
        hold: bool,
    ) -> AsyncGenerator[list[OpenAIChunk], None]:
        request: dict[str, Any] = {
            "model": model.upstream,
            "messages": [_message_param(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            request["tools"] = [_tool_param(t) for t in tools]
            if tool_choice is not None:
                request["tool_choice"] = _tool_choice_param(tool_choice)
        if max_tokens is not None:
            request[self._tokens_param] = max_tokens
        reader = _ChunkReader()
        held: list[OpenAIChunk] | None = [] if hold else None
        async with self._upstream.stream("/chat/completions", to_json(request)) as body:
            async for data in body:
                batch = reader.feed(data)
                if held is not None:
                    held += batch
                    if all(map(_opening, batch)):
                        if reader.failure is not None:
                            raise reader.failure  # before the answer said anything
                        continue
                    batch, held = held, None
                if batch:
                    yield batch
                if reader.failure is not None:
                    raise reader.failure
        reader.end()


def _opening(chunk: OpenAIChunk) -> bool:
    """Whether a chunk only opens the answer (a role, empty content), saying nothing yet."""
    if chunk.get("usage"):
        return False
    for choice in chunk["choices"]:
        if choice.get("finish_reason") is not None:
            return False
        delta = choice.get("delta")
        if isinstance(delta, dict) and any(v for k, v in delta.items() if k != "role"):
            return False
    return True


class _ChunkReader:
    """SSE bytes to chunk objects: `[DONE]` ends them, and an answer without a finish reason
    is an error when the body ends.

    An error event (or garbage) becomes `failure`, to raise once the chunks that came before
    it in the same read are passed on: one read may carry both.
    """

    def __init__(self) -> None:
        self._events = EventReader()
        self._done = False
        self._finished = False
        self.failure: ProviderError | None = None

    def feed(self, data: bytes) -> list[OpenAIChunk]:
        chunks: list[OpenAIChunk] = []
        for payload in self._events.feed(data):
            if self._done or self.failure is not None:
                # Past [DONE] the body is read to its end, so the connection can be reused;
                # past a failure nothing more is passed on.
                continue
            if payload.startswith(b"[DONE]"):
                self._done = True
                continue
            try:
                chunks.append(self._chunk(payload))
            except ProviderError as error:
                self.failure = error
        return chunks

    def end(self) -> None:
        if not self._finished:
            raise ProviderError("upstream", f"{NAME}'s answer ended before it was complete.")

    def _chunk(self, payload: bytes) -> OpenAIChunk:
        try:
            chunk = from_json(payload)
        except ValueError:
            raise errors.malformed(NAME, "invalid JSON") from None
        if not isinstance(chunk, dict):
            raise errors.malformed(NAME, "an event that is not an object")
        error = chunk.get("error")
        if error:
            raise _stream_error(error)
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise errors.malformed(NAME, "a chunk without choices")
        if not self._finished:
            self._finished = any(c.get("finish_reason") is not None for c in choices)
        return chunk


@dataclass
class _PendingCall:
    id: str
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    started: bool = False


class _Assembler:
    """Turns chunks into events: tool-call fragments are joined by their `index`."""

    def __init__(self) -> None:
        self._calls: dict[int, _PendingCall] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def feed(self, chunk: OpenAIChunk) -> list[StreamEvent]:
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = Usage(
                input_tokens=_count(usage.get("prompt_tokens")),
                output_tokens=_count(usage.get("completion_tokens")),
            )
        events: list[StreamEvent] = []
        for choice in chunk["choices"]:
            if choice.get("index", 0) != 0:
                continue  # we never ask for n > 1
            delta = choice.get("delta")
            if isinstance(delta, dict):
                content, refusal = delta.get("content"), delta.get("refusal")
                if content and isinstance(content, str):
                    events.append(TextDelta(content))
                if refusal and isinstance(refusal, str):
                    events.append(TextDelta(refusal))
                for fragment in delta.get("tool_calls") or ():
                    if isinstance(fragment, dict):
                        events.extend(self._tool_fragment(fragment))
            reason = choice.get("finish_reason")
            if reason is not None:
                self._finish = _FINISH_REASONS.get(reason, "other")
                events.extend(self._finish_calls())
        return events

    def finish(self) -> list[StreamEvent]:
        if self._finish is None:
            raise ProviderError("upstream", f"{NAME}'s answer ended before it was complete.")
        events: list[StreamEvent] = self._finish_calls()
        if self._usage is not None:
            events.append(self._usage)
        events.append(Finish(self._finish))
        return events

    def _tool_fragment(self, fragment: dict[str, Any]) -> list[StreamEvent]:
        index = fragment.get("index")
        if not isinstance(index, int):
            index = len(self._calls)
        call = self._calls.get(index)
        if call is None:
            # Some compatible servers omit the id; the call still needs one to be answered.
            call = self._calls[index] = _PendingCall(id=fragment.get("id") or f"call_{index}")
        function = fragment.get("function")
        if not isinstance(function, dict):
            function = {}
        name, arguments = function.get("name"), function.get("arguments")
        events: list[StreamEvent] = []
        if name and isinstance(name, str):
            call.name += name
        if not call.started and call.name:
            call.started = True
            events.append(ToolCallStarted(id=call.id, name=call.name))
            if call.arguments:  # fragments that came before the name
                events.append(ToolCallDelta(id=call.id, arguments_delta="".join(call.arguments)))
        if arguments and isinstance(arguments, str):
            call.arguments.append(arguments)
            if call.started:
                events.append(ToolCallDelta(id=call.id, arguments_delta=arguments))
        return events

    def _finish_calls(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for call in self._calls.values():
            if not call.started:
                raise errors.malformed(NAME, "a tool call without a name")
            events.append(
                ToolCallFinished(
                    id=call.id, name=call.name, arguments="".join(call.arguments) or "{}"
                )
            )
        self._calls.clear()
        return events


def _message_param(message: ChatMessage) -> dict[str, Any]:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "user":
        return {"role": "user", "content": message.content}
    if message.role == "tool":
        if message.tool_call_id is None:
            raise ValueError("A tool message needs the tool_call_id it answers.")
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if not message.tool_calls:
        return {"role": "assistant", "content": message.content}
    return {
        "role": "assistant",
        # OpenAI wants null, not "", beside tool calls when the model said nothing.
        "content": message.content or None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ],
    }


def _tool_param(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _tool_choice_param(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "tool":
        assert choice.name is not None
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def _stream_error(body: object) -> ProviderError:
    """An `{"error": …}` event inside a 200 stream: its code or type says what failed."""
    body = body if isinstance(body, dict) else {}
    error_type = body.get("code") if body.get("code") in errors.ERROR_TYPE_STATUS else None
    error_type = error_type or body.get("type")
    message = body.get("message")
    # The SDK's wording when an error event names no message.
    message = message if isinstance(message, str) and message else None
    message = message or "An error occurred during streaming"
    return errors.from_stream_error(
        NAME, error_type if isinstance(error_type, str) else None, message
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0
