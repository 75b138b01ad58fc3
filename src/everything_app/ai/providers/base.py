"""What every provider offers, and the retry rule they share."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import anyio

from everything_app.ai.models import ModelSpec
from everything_app.ai.types import ChatMessage, ProviderError, StreamEvent, ToolChoice, ToolSpec

OpenAIChunk = dict[str, Any]
"""One `chat.completion.chunk` as an OpenAI-compatible upstream sent it: parsed JSON, not
modelled (see `OpenAIProvider.chunks`)."""

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)


class Provider(Protocol):
    def stream(
        self,
        model: ModelSpec,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: ToolChoice | None = None,
        max_tokens: int | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream one answer. Raises `ProviderError`; the last event is always a `Finish`.
        `tool_choice` (with `tools`) says whether the model may, must or must not call one.

        Close the generator (`contextlib.aclosing`, or cancel the task) to stop early: that
        closes the upstream HTTP response, so the model stops generating and billing.
        """
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for failures that happen before anything reached the consumer.

    A rate limit whose `Retry-After` exceeds `max_delay` is not waited out: the caller gets
    the 429 with the hint instead of a request that hangs.
    """

    max_retries: int = 2
    base_delay: float = 0.25
    max_delay: float = 4.0
    jitter: float = 0.1
    """Up to this fraction is added to each delay, so clients that failed together spread out."""

    def delay(self, retry_number: int, error: ProviderError) -> float | None:
        """Seconds to wait before retry `retry_number` (0-based), or None to give up."""
        if not error.retryable or retry_number >= self.max_retries:
            return None
        backoff = min(self.max_delay, self.base_delay * 2.0**retry_number)
        if error.retry_after is not None:
            if error.retry_after > self.max_delay:
                return None
            backoff = max(backoff, error.retry_after)
        # Not security-relevant: jitter only spreads retries out.
        return backoff * (1 + self.jitter * random.random())  # noqa: S311


NO_RETRY = RetryPolicy(max_retries=0)


async def stream_with_retry(
    attempt: Callable[[], AsyncGenerator[T, None]], policy: RetryPolicy
) -> AsyncGenerator[T, None]:
    """Run `attempt`, starting it again on a retryable error only while nothing was yielded.

    Works for any item (our events, or an upstream's own chunks). Once an item went out, the
    consumer has shown it to someone; replaying the answer would duplicate or contradict it,
    so a later failure is raised as it is.
    """
    retry_number = 0
    while True:
        yielded = False
        try:
            async with aclosing(attempt()) as events:
                async for event in events:
                    yielded = True
                    yield event
            return
        except ProviderError as error:
            delay = None if yielded else policy.delay(retry_number, error)
            if delay is None:
                raise
        retry_number += 1
        await asyncio.sleep(delay)


class Assembler(Protocol[T_contra]):
    """Turns one SDK's stream items into our events (each provider has its own)."""

    def feed(self, item: T_contra) -> Iterable[StreamEvent]: ...

    def finish(self) -> Iterable[StreamEvent]: ...


async def relay(
    source: UpstreamStream[T],
    assembler: Assembler[T],
    map_error: Callable[[Exception], ProviderError],
) -> AsyncGenerator[StreamEvent, None]:
    """The provider's stream as our events, errors mapped; the upstream is always closed."""
    try:
        while True:
            try:
                item = await anext(source)
            except StopAsyncIteration:
                break
            except Exception as exc:
                raise map_error(exc) from exc
            for event in assembler.feed(item):
                yield event
        for event in assembler.finish():
            yield event
    finally:
        # Shielded: when the consumer's task is being cancelled, the close must still run,
        # or the upstream keeps generating into a connection nobody reads.
        with anyio.CancelScope(shield=True):
            await source.close()


class UpstreamStream(Protocol[T_co]):
    """What both SDKs' streams offer: async iteration and close()."""

    def __anext__(self) -> Awaitable[T_co]: ...

    async def close(self) -> None: ...
