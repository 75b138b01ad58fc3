"""core.heap: the collector's serving policy holds while any app serves, and only then."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from everything_app.core import heap


@pytest.fixture
def outside() -> Iterator[tuple[int, int, int]]:
    """A threshold of the caller's own, to see it kept and given back."""
    before = gc.get_threshold()
    gc.set_threshold(1234, 11, 12)
    try:
        yield (1234, 11, 12)
    finally:
        gc.set_threshold(*before)


def test_the_young_threshold_is_raised_while_serving_and_given_back(
    outside: tuple[int, int, int],
) -> None:
    with heap.serving():
        assert gc.get_threshold() == (heap.SERVING_YOUNG_THRESHOLD, *outside[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == outside


def test_overlapping_apps_keep_the_policy_until_the_last_one_stops(
    outside: tuple[int, int, int],
) -> None:
    first, second = heap.serving(), heap.serving()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first app stops while the second still serves
    assert gc.get_threshold()[0] == heap.SERVING_YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == outside


def test_the_policy_is_given_back_when_serving_fails(outside: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), heap.serving():
        raise RuntimeError("the app's lifespan failed")
    assert gc.get_threshold() == outside
