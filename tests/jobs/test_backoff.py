"""Retry delays: exponential, jittered within ±20 %, never past the cap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from everything_app.core.jobs.store import _like_prefix, backoff


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0, max_value=3600),
    cap=st.floats(min_value=0, max_value=86400),
)
def test_backoff_grows_exponentially_with_jitter_up_to_its_cap(
    attempt: int, base: float, cap: float
) -> None:
    delay = backoff(attempt, base, cap)
    expected = min(cap, base * 2 ** (attempt - 1))
    assert 0.8 * expected - 1e-9 <= delay <= 1.2 * expected + 1e-9
    assert delay <= cap


@given(st.text(max_size=50))
def test_a_key_prefix_matches_itself_literally(prefix: str) -> None:
    pattern = _like_prefix(prefix)
    assert pattern.endswith("%")
    body = pattern[:-1]
    # Every LIKE wildcard of the prefix is escaped: only the final % is one.
    unescaped = body.replace("\\\\", "").replace("\\%", "").replace("\\_", "")
    assert "%" not in unescaped
    assert "_" not in unescaped
