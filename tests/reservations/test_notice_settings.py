"""RESERVATION_REMINDER_BEFORE and RESERVATION_NOTIFY_POSITION as the environment gives them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from everything_app.settings import ReservationSettings

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "seconds"}
YEAR = timedelta(days=365)


def _before(value: str) -> timedelta | None:
    return ReservationSettings(reservation_reminder_before=value).reservation_reminder_before


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(UNITS)))
def test_a_short_duration_is_that_long_or_refused(amount: int, unit: str) -> None:
    expected = timedelta(**{UNITS[unit]: amount})
    if expected > YEAR:
        with pytest.raises(ValidationError):
            _before(f"{amount}{unit}")
    else:
        assert _before(f"{amount}{unit}") == (expected or None)  # 0: off


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("  ", None),
        ("0", None),
        ("PT0S", None),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("01:00:00", timedelta(hours=1)),
        (" 45m ", timedelta(minutes=45)),
    ],
)
def test_forms_of_the_lead_time(text: str, expected: timedelta | None) -> None:
    assert _before(text) == expected


@pytest.mark.parametrize("text", ["-1", "-PT1H", "soon", "1w", "1.5h", "400d"])
def test_what_is_not_a_lead_time(text: str) -> None:
    with pytest.raises(ValidationError):
        _before(text)


def test_the_defaults() -> None:
    settings = ReservationSettings()
    assert settings.reservation_reminder_before == timedelta(hours=1)
    assert settings.reservation_notify_position == 2
    with pytest.raises(ValidationError):
        ReservationSettings(reservation_notify_position=-1)
