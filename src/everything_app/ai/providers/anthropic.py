"""Anthropic Messages through the official SDK, read from the raw stream events."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import anthropic
from anthropic.types import (
    ContentBlockParam,
    InputJSONDelta,
    MessageParam,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    TextBlock,
    ToolChoiceParam,
    ToolParam,
    ToolUseBlock,
)
from anthropic.types import TextDelta as AnthropicTextDelta

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

NAME = "Anthropic"
_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool-calls",
    "refusal": "content-filter",
}


class AnthropicProvider:
    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        # The SDK's own retries are off: ours know whether a token already went out.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout
        )
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
        system, turns = to_anthropic_messages(messages)
        extra: dict[str, Any] = {}
        if system:
            extra["system"] = system
        if tools:
            extra["tools"] = [_tool_param(t) for t in tools]
            if tool_choice is not None:
                extra["tool_choice"] = _tool_choice_param(tool_choice)
        try:
            events = await self._client.messages.create(
                model=model.upstream,
                # Anthropic requires a limit; the model's own ceiling is the honest default.
                max_tokens=max_tokens or model.max_output_tokens,
                messages=turns,
                stream=True,
                **extra,
            )
        except Exception as exc:
            raise _map_error(exc) from exc
        async with aclosing(relay(events, _Assembler(), _map_error)) as relayed:
            async for out in relayed:
                yield out


@dataclass
class _Block:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)


class _Assembler:
    """Turns raw stream events into ours; tool input arrives as `input_json_delta` text."""

    def __init__(self) -> None:
        self._tools: dict[int, _Block] = {}
        self._input_tokens = 0
        self._output_tokens = 0
        self._stop: FinishReason | None = None
        self._stopped = False

    def feed(self, event: RawMessageStreamEvent) -> list[StreamEvent]:
        if isinstance(event, RawMessageStartEvent):
            self._input_tokens = _total_input(event.message.usage)
            self._output_tokens = event.message.usage.output_tokens or 0
            return []
        if isinstance(event, RawContentBlockStartEvent):
            block = event.content_block
            if isinstance(block, ToolUseBlock):
                self._tools[event.index] = _Block(id=block.id, name=block.name)
                return [ToolCallStarted(id=block.id, name=block.name)]
            if isinstance(block, TextBlock) and block.text:
                return [TextDelta(block.text)]
            return []
        if isinstance(event, RawContentBlockDeltaEvent):
            return self._delta(event)
        if isinstance(event, RawContentBlockStopEvent):
            tool = self._tools.pop(event.index, None)
            if tool is None:
                return []
            return [ToolCallFinished(tool.id, tool.name, "".join(tool.arguments) or "{}")]
        if isinstance(event, RawMessageDeltaEvent):
            if event.delta.stop_reason is not None:
                self._stop = _STOP_REASONS.get(event.delta.stop_reason, "other")
            # Both counts are cumulative; input appears here only on newer API versions.
            if event.usage.input_tokens is not None:
                self._input_tokens = _total_input(event.usage)
            self._output_tokens = event.usage.output_tokens
            return []
        if isinstance(event, RawMessageStopEvent):
            self._stopped = True
        return []  # unknown events are skipped, as the API's versioning policy asks

    def finish(self) -> list[StreamEvent]:
        if not self._stopped or self._stop is None:
            raise ProviderError("upstream", f"{NAME}'s answer ended before it was complete.")
        return [Usage(self._input_tokens, self._output_tokens), Finish(self._stop)]

    def _delta(self, event: RawContentBlockDeltaEvent) -> list[StreamEvent]:
        delta = event.delta
        if isinstance(delta, AnthropicTextDelta):
            return [TextDelta(delta.text)] if delta.text else []
        if isinstance(delta, InputJSONDelta):
            tool = self._tools.get(event.index)
            if tool is None:
                raise errors.malformed(NAME, "tool input outside a tool_use block")
            if not delta.partial_json:
                return []
            tool.arguments.append(delta.partial_json)
            return [ToolCallDelta(id=tool.id, arguments_delta=delta.partial_json)]
        return []  # thinking, signatures, citations: nothing our events carry


def _total_input(usage: Any) -> int:
    # Cached prompt tokens are billed input too; Anthropic reports them separately.
    return sum(
        getattr(usage, name, None) or 0
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def to_anthropic_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[MessageParam]]:
    """Split out the system prompt and shape the turns as the Messages API wants them.

    Tool results travel as `tool_result` blocks in a user turn. Consecutive turns of one role
    are merged, because the results of parallel calls must all sit in the turn right after the
    assistant's `tool_use` blocks.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    turns: list[MessageParam] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            previous = turns[-1]["content"]
            assert isinstance(previous, list)  # we only ever build block lists
            previous.extend(blocks)
        elif role == "assistant":
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": "user", "content": blocks})
    return system, turns


def _blocks(message: ChatMessage) -> list[ContentBlockParam]:
    if message.role == "tool":
        if message.tool_call_id is None:
            raise ValueError("A tool message needs the tool_call_id it answers.")
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
        ]
    # Anthropic rejects empty text blocks, which an assistant turn with only tool calls has.
    blocks: list[ContentBlockParam] = (
        [{"type": "text", "text": message.content}] if message.content else []
    )
    for call in message.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": _tool_input(call.arguments),
            }
        )
    return blocks


def _tool_input(arguments: str) -> dict[str, object]:
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ProviderError(
            "bad_request", "A stored tool call has arguments that are not a JSON object."
        )
    return value


def _tool_param(tool: ToolSpec) -> ToolParam:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


def _tool_choice_param(choice: ToolChoice) -> ToolChoiceParam:
    """OpenAI's "required" is Anthropic's "any"."""
    if choice.mode == "tool":
        assert choice.name is not None
        return {"type": "tool", "name": choice.name}
    if choice.mode == "required":
        return {"type": "any"}
    if choice.mode == "none":
        return {"type": "none"}
    return {"type": "auto"}


def _map_error(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, anthropic.APITimeoutError):
        return errors.timeout(NAME)
    if isinstance(exc, anthropic.APIConnectionError):
        return errors.unavailable(NAME)
    if isinstance(exc, anthropic.APIStatusError):
        error_type, message = _error_fields(exc.body)
        if exc.status_code < 400:
            # An `event: error` inside a 200 stream: the SDK raises it with the stream's
            # status, so the error's type is what says what happened.
            return errors.from_stream_error(NAME, error_type, message)
        return errors.from_status(
            exc.status_code, NAME, message, errors.parse_retry_after(exc.response.headers)
        )
    if isinstance(exc, anthropic.APIResponseValidationError):
        return errors.malformed(NAME, "unexpected shape")
    if isinstance(exc, ValueError):  # json.JSONDecodeError from a garbled event
        return errors.malformed(NAME, "invalid JSON")
    transport = errors.from_transport(exc, NAME)
    if transport is not None:
        return transport
    return ProviderError("upstream", f"{NAME} failed unexpectedly ({type(exc).__name__}).")


def _error_fields(body: object) -> tuple[str | None, str | None]:
    """`(error.type, error.message)` from `{"type": "error", "error": {…}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    kind, message = error.get("type"), error.get("message")
    return (
        kind if isinstance(kind, str) else None,
        message if isinstance(message, str) else None,
    )
