"""Properties of the offline sentence parser, for any text, any moment and any time zone.

The parser reads open-ended user text, so examples alone cannot cover it: it must never
raise (a 500 in chat), every call it returns must be one its tool accepts, and the phrases
it does understand must give back exactly the values they carry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from everything_app.core.timestamps import MAX_INSTANT, MIN_INSTANT
from everything_app.planner.sentences import parse_sentence
from everything_app.planner.tools import TOOLS

pytestmark = pytest.mark.slow  # hundreds of Hypothesis examples

ZONES = sorted(available_timezones() - {"Factory", "localtime"})
# Words of the grammar (intents, days, periods, times) mixed with anything else, so the
# generated sentences reach deep into the grammar instead of failing at the first word.
GRAMMAR = (
    "add task event spent on for at due by from to until tomorrow today yesterday next last "
    "this week month year monday friday sunday mark done complete what's how much did i "
    "spend tasks events am pm noon midnight in days hours minutes 12:30 9 23:59 24:00 "
    "00:00 0 1 31 12/01 2026-02-29 1900-01-01 8999-12-31 9999-12-31 0001-01-01 $ € 7 "
    "12.50 1,000 0.001 -5 coffee rent lunch with sam ? . !"
)
WORDS = GRAMMAR.split()
sentences = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=10).map(" ".join),
)
moments = st.datetimes(
    min_value=MIN_INSTANT.replace(tzinfo=None), max_value=MAX_INSTANT.replace(tzinfo=None)
).map(lambda value: value.replace(tzinfo=UTC))
zones = st.sampled_from(ZONES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=sentences, now=moments, zone=zones)
def test_any_sentence_gives_a_valid_call_or_none(text: str, now: datetime, zone: str) -> None:
    found = parse_sentence(text, now, zone)
    if found is None:
        return
    tool = TOOLS[found.name]
    # What the parser returns is what the tool itself accepts, unchanged.
    again = tool.args.model_validate(found.args.model_dump())
    assert again == found.args
    if text.strip().endswith("?"):
        assert not tool.writes, found.name  # a question only ever reads


amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2, allow_nan=False
)
categories = st.sampled_from(["coffee", "food", "rent", "travel", "books", "gym"])


@settings(max_examples=150, deadline=None)
@given(amount=amounts, category=categories, now=moments, zone=zones)
def test_spending_sentences_record_exactly_what_they_say(
    amount: Decimal, category: str, now: datetime, zone: str
) -> None:
    found = parse_sentence(f"spent {amount} on {category}", now, zone)
    assert found is not None
    assert found.name == "create_expense"
    values = found.args.model_dump()
    assert Decimal(values["amount"]) == amount
    assert values["category"] == category


titles = st.lists(
    st.sampled_from(["pay", "rent", "call", "mum", "buy", "milk", "book", "dentist"]),
    min_size=1,
    max_size=4,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(title=titles, now=moments, zone=zones)
def test_task_sentences_keep_their_title_and_land_in_range(
    title: str, now: datetime, zone: str
) -> None:
    found = parse_sentence(f"add task {title} due tomorrow", now, ZoneInfo(zone))
    if found is None:  # tomorrow may be past the end of the accepted range
        assert now.astimezone(ZoneInfo(zone)).date() >= MAX_INSTANT.date().replace(day=30)
        return
    assert found.name == "create_task"
    values = found.args.model_dump()
    assert values["title"] == title
    due = values["due"]
    assert due is not None
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    assert due.replace(tzinfo=None).date() > local_now.date()
