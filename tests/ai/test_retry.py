"""The retry rule on its own, with scripted attempts instead of a network."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

import pytest

from everything_app.ai import Finish, ProviderError, RetryPolicy, StreamEvent, TextDelta
from everything_app.ai.providers import stream_with_retry

from .support import collect, collect_until_error

NO_WAIT = RetryPolicy(max_retries=2, base_delay=0.0, jitter=0.0)


def attempts(
    *outcomes: ProviderError | str,
) -> tuple[Callable[[], AsyncGenerator[StreamEvent, None]], list[str]]:
    """Each call plays the next outcome: an error raised at once, or a text then Finish.

    A text ending in "!" raises an upstream error after yielding it. Returns the factory and a
    log of what each attempt did, including being closed.
    """
    log: list[str] = []
    queue = list(outcomes)

    async def attempt() -> AsyncGenerator[StreamEvent, None]:
        outcome = queue.pop(0)
        log.append(f"start {len(log)}")
        try:
            if isinstance(outcome, ProviderError):
                raise outcome
            yield TextDelta(outcome)
            if outcome.endswith("!"):
                raise ProviderError("upstream", "died mid-answer")
            yield Finish("stop")
        finally:
            log.append("closed")

    return attempt, log


async def test_retries_a_retryable_error_then_succeeds() -> None:
    factory, log = attempts(
        ProviderError("upstream", "boom"), ProviderError("timeout", "slow"), "ok"
    )

    events = await collect(stream_with_retry(factory, NO_WAIT))

    assert events == [TextDelta("ok"), Finish("stop")]
    assert log.count("closed") == 3


async def test_gives_up_after_max_retries() -> None:
    errors = [ProviderError("unavailable", f"down {i}") for i in range(3)]
    factory, _ = attempts(*errors, "never")

    with pytest.raises(ProviderError) as caught:
        await collect(stream_with_retry(factory, NO_WAIT))

    assert caught.value is errors[2]


async def test_does_not_retry_what_cannot_succeed() -> None:
    factory, log = attempts(ProviderError("auth", "bad key"), "never")

    with pytest.raises(ProviderError, match="bad key"):
        await collect(stream_with_retry(factory, NO_WAIT))

    assert log == ["start 0", "closed"]


async def test_never_retries_once_an_event_went_out() -> None:
    factory, log = attempts("Hel!", "never")
    seen: list[StreamEvent] = []

    with pytest.raises(ProviderError, match="died mid-answer"):
        await collect_until_error(stream_with_retry(factory, NO_WAIT), seen)

    assert seen == [TextDelta("Hel!")]
    assert log == ["start 0", "closed"]


async def test_closing_the_outer_stream_closes_the_attempt() -> None:
    factory, log = attempts("first")

    async with aclosing(stream_with_retry(factory, NO_WAIT)) as events:
        assert await anext(events) == TextDelta("first")
        assert log == ["start 0"]

    assert log == ["start 0", "closed"]


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=3.0, jitter=0.0)
    error = ProviderError("upstream", "boom")

    assert [policy.delay(n, error) for n in range(6)] == [1.0, 2.0, 3.0, 3.0, 3.0, None]


def test_jitter_only_lengthens_the_delay_a_little() -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=0.1)
    delay = policy.delay(0, ProviderError("upstream", "boom"))

    assert delay is not None
    assert 1.0 <= delay <= 1.1


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=4.0, jitter=0.0)

    assert policy.delay(0, ProviderError("rate_limited", "slow down", retry_after=2.0)) == 2.0
    assert policy.delay(0, ProviderError("rate_limited", "slow down", retry_after=60.0)) is None
    assert policy.delay(0, ProviderError("malformed", "garbage")) is None
