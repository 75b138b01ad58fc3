"""core.db.UTCDateTime: every timestamp comes back aware, in UTC, the instant it was stored,
whichever driver read it; the fast readers agree with SQLAlchemy's own processing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import TypeDecorator, literal, select, text
from sqlalchemy.dialects import sqlite

from everything_app.core.db import UTCDateTime

TYPE = UTCDateTime()
SQLITE = sqlite.dialect()
ZONES = st.builds(
    timezone, st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))
)
INSTANTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
)


@given(INSTANTS)
@example(datetime(2026, 12, 2, 0, 25, 33, tzinfo=UTC))  # no microseconds
def test_sqlite_gives_back_the_instant_stored(instant: datetime) -> None:
    store = TYPE.dialect_impl(SQLITE).bind_processor(SQLITE)
    read = TYPE._cached_result_processor(SQLITE, None)
    assert store is not None
    assert read is not None
    back = read(store(instant))
    assert back == instant
    assert back.tzinfo is UTC


TEXTS = st.one_of(
    INSTANTS.map(lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")),
    INSTANTS.map(lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")),
    INSTANTS.map(lambda d: d.isoformat()),  # written by someone else, with its offset
    st.dates(min_value=datetime(1970, 1, 2).date()).map(lambda d: d.isoformat()),
)


@given(TEXTS)
def test_the_fast_sqlite_reader_agrees_with_sqlalchemys_own(text: str) -> None:
    fast = TYPE._cached_result_processor(SQLITE, None)
    # The TypeDecorator's own composition: the dialect's parse, then process_result_value.
    impl: Any = TYPE.dialect_impl(SQLITE)
    general = TypeDecorator.result_processor(impl, SQLITE, None)
    assert fast is not None
    assert general is not None
    found = fast(text)
    assert found == general(text)
    assert found is not None
    assert found.tzinfo is UTC
    assert fast(None) is None


async def test_each_driver_gives_back_aware_utc(app: FastAPI) -> None:
    instant = datetime(2026, 12, 2, 9, 30, 15, 250, tzinfo=timezone(timedelta(hours=9)))
    async with app.state.sessionmaker() as session:
        if session.get_bind().dialect.name == "postgresql":
            # asyncpg's values are taken as they come: decoded from UTC microseconds,
            # whatever zone the session is in.
            await session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
        found = (await session.execute(select(literal(instant, UTCDateTime())))).scalar_one()
    assert found == instant
    assert found.tzinfo is UTC
