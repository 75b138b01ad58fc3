"""Days, clock times and periods in plain English, read relative to a moment in a time zone.

Weekdays and today/tomorrow/yesterday are resolved by simple arithmetic (so "friday" means the
same thing every time); absolute dates ("dec 5", "5 december", "2026-12-01", "in 3 days") by
`dateparser`; clock times here: "12:30-13:30", "3-4pm", "at 9" (a bare 1-7 is afternoon, or
evening when the sentence says tonight), "for 30 minutes". Each `take_*` function returns what
it found and the text without it, so the caller can check that nothing is left unexplained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import dateparser

from everything_app.core.clock import day_bounds, local_midnight, month_bounds

Prefer = Literal["future", "past"]


@dataclass(frozen=True)
class Context:
    now: datetime  # aware, in tz
    tz: ZoneInfo
    asked: bool  # the sentence ended with a question mark

    @property
    def today(self) -> date:
        return self.now.date()

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz)


# --- vocabulary --------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Full names only: "sun" or "sat" in a title must not become a date.
_W = r"(?:monday|tuesday|tues|wednesday|thursday|thurs|friday|saturday|sunday)"
_M = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_N = r"(?:\d{1,3}|a|an|one|two|three|four|five)"
_DAY = (
    r"(?:today|tonight|this\s+(?:morning|afternoon|evening)|(?:the\s+)?day\s+after\s+tomorrow"
    r"|tomorrow|tmrw|yesterday"
    rf"|(?:(?:next|this|last|coming)\s+)?{_W}"
    rf"|in\s+{_N}\s+(?:days?|weeks?)"
    rf"|{_M}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_M}(?:,?\s+\d{{4}})?"
    r"|\d{4}-\d{2}-\d{2})"
)
_CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midnight)"
_STRONG_CLOCK = (
    r"(?:\d{1,2}:\d{2}(?:\s*(?:am|pm))?|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|noon|midnight)"
)
_DATE_SETTINGS: dict[str, Any] = {
    "PREFER_DAY_OF_MONTH": "first",
    "DATE_ORDER": "DMY",
    "RETURN_AS_TIMEZONE_AWARE": False,
}


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def without(text: str, match: re.Match[str]) -> str:
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


# --- days and times ----------------------------------------------------------------------


def _weekday_index(word: str) -> int:
    return next(i for i, name in enumerate(_WEEKDAYS) if name.startswith(word.lower()[:3]))


def _resolve_day(phrase: str, ctx: Context, prefer: Prefer) -> date | None:
    phrase = " ".join(phrase.lower().split())
    today = ctx.today
    fixed = {
        "today": 0,
        "tonight": 0,
        "this morning": 0,
        "this afternoon": 0,
        "this evening": 0,
        "tomorrow": 1,
        "tmrw": 1,
        "yesterday": -1,
        "day after tomorrow": 2,
        "the day after tomorrow": 2,
    }
    if phrase in fixed:
        return today + timedelta(days=fixed[phrase])
    weekday = re.fullmatch(rf"(?:(next|this|last|coming)\s+)?({_W})", phrase)
    if weekday:
        modifier, name = weekday.groups()
        ahead = (_weekday_index(name) - today.weekday()) % 7
        if modifier in ("next", "coming") or (modifier is None and prefer == "future"):
            strict = modifier is not None and ahead == 0
            return today + timedelta(days=7 if strict else ahead)
        if modifier == "this":
            return today + timedelta(days=ahead)
        back = (today.weekday() - _weekday_index(name)) % 7
        strict = modifier == "last" and back == 0
        return today - timedelta(days=7 if strict else back)
    words = re.fullmatch(rf"in\s+({_N})\s+(days?|weeks?)", phrase)
    if words and not words.group(1).isdigit():
        phrase = f"in {_NUMBER_WORDS[words.group(1)]} {words.group(2)}"
    settings = {
        **_DATE_SETTINGS,
        "RELATIVE_BASE": ctx.now.replace(tzinfo=None),
        "PREFER_DATES_FROM": prefer,
    }
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    return parsed.date() if parsed is not None else None


def _clock(text: str, *, bare_ok: bool, evening: bool = False) -> time | None:
    text = text.lower().replace(".", "").strip()
    if text == "noon":
        return time(12)
    if text == "midnight":
        return time(0)
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text)
    if not match:
        return None
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if minute > 59:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif match.group(2) is None:
        if not bare_ok or not 1 <= hour <= 12:
            return None
        # A bare hour: "at 3" is 15:00, "at 9" is 09:00, or the evening when it says so.
        if evening or hour <= 7:
            hour = hour % 12 + 12
    if hour > 23:
        return None
    return time(hour, minute)


@dataclass(frozen=True)
class Times:
    start: time
    end: time | None = None
    length: timedelta | None = None


_RANGE = rx(
    rf"(?:\b(?P<from>from)\s+)?(?<![\w:.,-])(?P<t1>{_CLOCK})\s*(?:-|\bto\b|\buntil\b|\btill\b)"
    rf"\s*(?P<t2>{_CLOCK})(?![\w:])"
)
_AT = rx(rf"(?:\bat\s+(?P<bare>{_CLOCK})|(?<![\w:.,$€£])(?P<strong>{_STRONG_CLOCK}))(?![\w:])")
_FOR = rx(
    r"\bfor\s+(?P<n>\d+(?:\.\d+)?|an?|one|two|three|half\s+an?)\s*"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|m)\b"
)


def _range(match: re.Match[str], evening: bool) -> Times | None:
    first, second = match.group("t1"), match.group("t2")
    if match.group("from") is None and not (
        re.search(r"[:apn]", first, re.I) or re.search(r"[:apn]", second, re.I)
    ):
        return None  # "2 to 3 chapters" is not a time range
    end = _clock(second, bare_ok=True, evening=evening)
    start = _clock(first, bare_ok=True, evening=evening)
    meridiem = re.search(r"(am|pm)\s*$", second, re.I)
    if end is None or start is None:
        return None
    if meridiem and not re.search(r"am|pm|:", first, re.I):
        # "3-4pm": the first time shares the second's half of the day, unless that would put
        # it after the end ("11-1pm" is 11:00-13:00).
        shifted = _clock(f"{first}{meridiem.group(1)}", bare_ok=True)
        if shifted is not None and shifted < end:
            start = shifted
    return Times(start=start, end=end)


def _length(match: re.Match[str]) -> timedelta:
    amount, unit = match.group("n").lower(), match.group("unit").lower()
    value = 0.5 if amount.startswith("half") else float(_NUMBER_WORDS.get(amount, 0) or amount)
    minutes = value * (60 if unit.startswith("h") else 1)
    return timedelta(minutes=round(minutes))


def take_times(text: str) -> tuple[Times | None, str]:
    """The clock time (and end or length) in `text`, and the text without them."""
    evening = bool(re.search(r"\b(tonight|evening)\b", text, re.I))
    times: Times | None = None
    found = next((m for m in _RANGE.finditer(text) if _range(m, evening) is not None), None)
    if found:
        times = _range(found, evening)
        text = without(text, found)
    else:
        found = _AT.search(text)
        if found:
            bare = found.group("bare")
            start = _clock(bare or found.group("strong"), bare_ok=bare is not None, evening=evening)
            if start is None:
                return None, text
            times = Times(start=start)
            text = without(text, found)
    if times is not None and times.end is None:
        length = _FOR.search(text)
        if length:
            times = Times(start=times.start, length=_length(length))
            text = without(text, length)
    return times, text


_DAY_IN_TEXT = rx(rf"(?:\bon\s+)?\b(?P<day>{_DAY})\b")


def take_day(text: str, ctx: Context, prefer: Prefer) -> tuple[date | None, str, bool]:
    """The day named in `text` (None if none or unreadable), the rest, and whether one was
    named at all (a named day that cannot be read makes the sentence not understood)."""
    found = list(_DAY_IN_TEXT.finditer(text))
    if not found:
        return None, text, False
    if len(found) > 1:
        return None, text, True  # "tomorrow ... on friday": which one?
    return _resolve_day(found[0].group("day"), ctx, prefer), without(text, found[0]), True


def take_period(
    text: str, ctx: Context, prefer: Prefer
) -> tuple[tuple[datetime, datetime] | None, str, bool]:
    """A time range named in `text`, the rest of the text, and whether one was named."""
    today, tz = ctx.today, ctx.tz
    match = rx(r"\b(?:the\s+)?(next|coming|last|past)\s+(\d{1,3})\s+days\b").search(text)
    if match:
        n = int(match.group(2))
        if match.group(1).lower() in ("next", "coming"):
            return day_bounds(today, tz, n), without(text, match), True
        return day_bounds(today - timedelta(days=n - 1), tz, n), without(text, match), True
    match = rx(r"\b(this|next|last)\s+(week|weekend|month|year)\b").search(text)
    if match:
        which, unit = match.group(1).lower(), match.group(2).lower()
        step = {"this": 0, "next": 1, "last": -1}[which]
        if unit == "week":
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
            bounds = day_bounds(monday, tz, 7)
        elif unit == "weekend":
            saturday = today + timedelta(days=(5 - today.weekday()) % 7) + timedelta(weeks=step)
            bounds = day_bounds(saturday, tz, 2)
        elif unit == "month":
            first = today.replace(day=1)
            if step > 0:
                first = (first + timedelta(days=32)).replace(day=1)
            elif step < 0:
                first = (first - timedelta(days=1)).replace(day=1)
            bounds = month_bounds(first, tz)
        else:
            year = today.year + step
            bounds = (
                local_midnight(date(year, 1, 1), tz),
                local_midnight(date(year + 1, 1, 1), tz),
            )
        return bounds, without(text, match), True
    match = rx(rf"\b(?:in|for|during)\s+(?P<m>{_M})(?:\s+(?P<y>\d{{4}}))?\b").search(text)
    if match:
        month = _resolve_day(f"1 {match.group('m')} 2000", ctx, prefer)
        if month is None:
            return None, text, True
        year = int(match.group("y")) if match.group("y") else today.year
        if not match.group("y") and prefer == "past" and month.month > today.month:
            year -= 1
        if not match.group("y") and prefer == "future" and month.month < today.month:
            year += 1
        return month_bounds(date(year, month.month, 1), tz), without(text, match), True
    day, rest, named = take_day(text, ctx, prefer)
    if day is not None:
        return day_bounds(day, tz), rest, True
    return None, text, named
