"""The in-memory moving window (core.ratelimit.MemoryWindows): counts, refuses, moves on."""

from __future__ import annotations

import pytest

from everything_app.core import ratelimit
from everything_app.core.ratelimit import MemoryWindows, rule


async def test_a_window_refuses_past_its_limit_and_moves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_000.0]
    monkeypatch.setattr("everything_app.core.ratelimit.time.time", lambda: now[0])
    windows, item = MemoryWindows(), rule("2/minute")

    assert await windows.hit(item, "k")
    now[0] += 10
    assert await windows.hit(item, "k")
    assert not await windows.hit(item, "k")
    assert not await windows.test(item, "k")
    assert await windows.hit(item, "other"), "each key has its own window"
    stats = await windows.get_window_stats(item, "k")
    assert (stats.reset_time, stats.remaining) == (1_060.0, 0)

    now[0] = 1_060.5  # the first hit has left the window, the second has not
    assert await windows.test(item, "k")
    assert await windows.hit(item, "k")
    assert not await windows.hit(item, "k")


async def test_idle_windows_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    monkeypatch.setattr("everything_app.core.ratelimit.time.time", lambda: now[0])
    windows, item = MemoryWindows(), rule("5/second")
    for key in ("a", "b", "c"):
        assert await windows.hit(item, key)

    now[0] += ratelimit.SWEEP_SECONDS + 1
    assert await windows.hit(item, "d")

    assert list(windows._windows) == [item.key_for("d")]
