"""Slot arithmetic: alignment, closing time, weekdays, timezones and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from everything_app.core.clock import day_bounds, zone_named
from everything_app.reservations.models import DEFAULT_OPENING_HOURS
from everything_app.reservations.slots import Schedule


def _utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_default_hours_give_aligned_slots_that_end_by_closing() -> None:
    schedule = Schedule.of(DEFAULT_OPENING_HOURS, 45, "UTC")
    starts = schedule.starts_on(date(2030, 1, 7))  # a Monday
    # 09:00 + k*45 while the slot ends by 17:00: the last is 15:45 (16:30 would end 17:15).
    assert starts[0] == _utc(2030, 1, 7, 9, 0)
    assert starts[-1] == _utc(2030, 1, 7, 15, 45)
    assert len(starts) == 10
    assert schedule.offers(_utc(2030, 1, 7, 9, 45))
    assert not schedule.offers(_utc(2030, 1, 7, 9, 30))  # misaligned
    assert not schedule.offers(_utc(2030, 1, 7, 17, 0))  # closing time
    assert not schedule.offers(_utc(2030, 1, 7, 9, 0, 1))  # a second off
    assert schedule.starts_on(date(2030, 1, 12)) == []  # Saturday: closed


def test_several_intervals_and_midnight() -> None:
    hours = {"sat": [{"open": "10:00", "close": "12:00"}, {"open": "22:00", "close": "24:00"}]}
    schedule = Schedule.of(hours, 60, "UTC")
    starts = schedule.starts_on(date(2030, 1, 12))
    assert [s.hour for s in starts] == [10, 11, 22, 23]


def test_slots_are_local_to_the_service_timezone() -> None:
    schedule = Schedule.of(DEFAULT_OPENING_HOURS, 60, "Asia/Tokyo")  # UTC+9, no DST
    starts = schedule.starts_on(date(2030, 1, 7))
    assert starts[0] == _utc(2030, 1, 7, 0, 0)  # 09:00 in Tokyo
    # Read as a UTC day, Monday holds Monday's slots only (Tokyo's 09-17 is 00-08 UTC).
    start, end = day_bounds(date(2030, 1, 7), zone_named("UTC"))
    assert schedule.starts_between(start, end) == starts
    # Read as a Los Angeles day (UTC-8), Sunday evening there is Monday morning in Tokyo.
    start, end = day_bounds(date(2030, 1, 6), zone_named("America/Los_Angeles"))
    assert schedule.starts_between(start, end) == starts


def test_daylight_saving_gap_and_overlap() -> None:
    hours = {"sun": [{"open": "00:00", "close": "04:00"}]}
    schedule = Schedule.of(hours, 30, "Europe/Paris")
    # 2030-03-31: clocks jump from 02:00 to 03:00, so 02:00 and 02:30 do not exist.
    # Local 00:00, 00:30, 01:00, 01:30 (CET, UTC+1), then 03:00, 03:30 (CEST, UTC+2).
    assert schedule.starts_on(date(2030, 3, 31)) == [
        _utc(2030, 3, 30, 23, 0),
        _utc(2030, 3, 30, 23, 30),
        _utc(2030, 3, 31, 0, 0),
        _utc(2030, 3, 31, 0, 30),
        _utc(2030, 3, 31, 1, 0),
        _utc(2030, 3, 31, 1, 30),
    ]
    # 2030-10-27: 02:00-03:00 happens twice; slots start at its first occurrence only.
    autumn = schedule.starts_on(date(2030, 10, 27))
    assert len(autumn) == 8
    assert _utc(2030, 10, 27, 0, 0) in autumn  # 02:00 CEST
    assert _utc(2030, 10, 27, 1, 0) not in autumn  # 02:00 CET, the repeat
    start, end = day_bounds(date(2030, 10, 27), zone_named("Europe/Paris"))
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 25 * 3600


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", ""])
def test_only_iana_zones(name: str) -> None:
    with pytest.raises(ValueError, match="Unknown time zone"):
        zone_named(name)
