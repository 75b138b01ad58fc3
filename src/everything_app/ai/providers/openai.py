"""OpenAI Chat Completions (and any OpenAI-compatible server) through the official SDK."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import openai
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolUnionParam,
)

from everything_app.ai.models import ModelSpec
from everything_app.ai.providers import errors
from everything_app.ai.providers.base import RetryPolicy, relay, stream_with_retry
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
        # The SDK's own retries are off: ours know whether a token already went out.
        self._client = openai.AsyncOpenAI(
            # Local OpenAI-compatible servers take no key, but the SDK insists on one; passing
            # our own placeholder also keeps it from reading OPENAI_API_KEY behind our back.
            api_key=api_key or "no-key",
            base_url=base_url,
            max_retries=0,
            timeout=timeout,
        )
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
            lambda: self._attempt(model, messages, tools, tool_choice, max_tokens), self._retry
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def _attempt(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec],
        tool_choice: ToolChoice | None,
        max_tokens: int | None,
    ) -> AsyncGenerator[StreamEvent, None]:
        extra: dict[str, Any] = {}
        if tools:
            extra["tools"] = [_tool_param(t) for t in tools]
            if tool_choice is not None:
                extra["tool_choice"] = _tool_choice_param(tool_choice)
        if max_tokens is not None:
            extra[self._tokens_param] = max_tokens
        try:
            chunks = await self._client.chat.completions.create(
                model=model.upstream,
                messages=[_message_param(m) for m in messages],
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            )
        except Exception as exc:
            raise _map_error(exc) from exc
        async with aclosing(relay(chunks, _Assembler(), _map_error)) as relayed:
            async for out in relayed:
                yield out


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

    def feed(self, chunk: ChatCompletionChunk) -> list[StreamEvent]:
        choices = getattr(chunk, "choices", None)
        if not isinstance(choices, list):
            raise errors.malformed(NAME, "a chunk without choices")
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = Usage(
                input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens
            )
        events: list[StreamEvent] = []
        for choice in choices:
            if choice.index != 0:
                continue  # we never ask for n > 1
            delta = choice.delta
            if delta.content:
                events.append(TextDelta(delta.content))
            if delta.refusal:
                events.append(TextDelta(delta.refusal))
            for fragment in delta.tool_calls or ():
                events.extend(self._tool_fragment(fragment))
            if choice.finish_reason is not None:
                self._finish = _FINISH_REASONS.get(choice.finish_reason, "other")
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

    def _tool_fragment(self, fragment: Any) -> list[StreamEvent]:
        index = fragment.index if isinstance(fragment.index, int) else len(self._calls)
        call = self._calls.get(index)
        if call is None:
            # Some compatible servers omit the id; the call still needs one to be answered.
            call = self._calls[index] = _PendingCall(id=fragment.id or f"call_{index}")
        function = fragment.function
        events: list[StreamEvent] = []
        if function is not None and function.name:
            call.name += function.name
        if not call.started and call.name:
            call.started = True
            events.append(ToolCallStarted(id=call.id, name=call.name))
            if call.arguments:  # fragments that came before the name
                events.append(ToolCallDelta(id=call.id, arguments_delta="".join(call.arguments)))
        if function is not None and function.arguments:
            call.arguments.append(function.arguments)
            if call.started:
                events.append(ToolCallDelta(id=call.id, arguments_delta=function.arguments))
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


def _message_param(message: ChatMessage) -> ChatCompletionMessageParam:
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


def _tool_param(tool: ToolSpec) -> ChatCompletionToolUnionParam:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _tool_choice_param(choice: ToolChoice) -> ChatCompletionToolChoiceOptionParam:
    if choice.mode == "tool":
        assert choice.name is not None
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def _map_error(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return errors.timeout(NAME)
    if isinstance(exc, openai.APIConnectionError):
        return errors.unavailable(NAME)
    if isinstance(exc, openai.APIStatusError):
        return errors.from_status(
            exc.status_code,
            NAME,
            _upstream_message(exc.body),
            errors.parse_retry_after(exc.response.headers),
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return errors.malformed(NAME, "unexpected shape")
    if isinstance(exc, openai.APIError):
        # An `{"error": …}` event inside a 200 stream: its type or code says what failed.
        body = exc.body if isinstance(exc.body, dict) else {}
        error_type = body.get("code") if body.get("code") in errors.ERROR_TYPE_STATUS else None
        error_type = error_type or body.get("type")
        return errors.from_stream_error(
            NAME, error_type if isinstance(error_type, str) else None, exc.message
        )
    if isinstance(exc, ValueError):  # json.JSONDecodeError from a garbled event
        return errors.malformed(NAME, "invalid JSON")
    transport = errors.from_transport(exc, NAME)
    if transport is not None:
        return transport
    return ProviderError("upstream", f"{NAME} failed unexpectedly ({type(exc).__name__}).")


def _upstream_message(body: object) -> str | None:
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str):
            return message
    return None
