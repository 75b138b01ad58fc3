"""Plain sentences to planner tool calls, offline and deterministic (the chat's offline mode).

    parse_sentence("add task pay rent due friday", now, "Europe/Paris")
    -> ToolInvocation("create_task", CreateTaskArgs(title="pay rent", due=<Fri 23:59:59>))

A small grammar per intent, tried in order: complete a task, record an expense, add a task,
a question (events, tasks or spending), add an event. Days, times and periods are read by
`planner.phrases`, relative to `now` in the user's time zone.

The rule is never to make a wrong record: a sentence the grammar does not fully account for
gives None, and so does one whose values the tool would refuse. Questions use a closed
vocabulary for the same reason: "what is the capital of France?" is not a calendar query.
Statements of what was meant but not understood ("due 12/01": day or month first?) are None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from everything_app.core.clock import day_bounds, month_bounds, zone_named
from everything_app.core.errors import AppError
from everything_app.planner.phrases import Context, rx, take_day, take_period, take_times, without
from everything_app.planner.tools import TOOLS

HELP = (
    "I can add tasks, events and expenses and answer questions about them, for example: "
    '"add task pay rent due friday", "lunch with Sam tomorrow 12:30-13:30", '
    '"spent 12.50 on food yesterday", "mark pay rent done", "what\'s on today?", '
    '"what are my tasks?", "how much did I spend on food this month?".'
)


@dataclass(frozen=True)
class ToolInvocation:
    """A planner tool to run, with arguments already validated by its model."""

    name: str
    args: BaseModel


_AMOUNT = (
    r"(?:[$€£]\s*)?(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"(?:\s*(?:€|\$|£|eur|euros?|usd|dollars?|bucks|gbp|pounds?))?"
)


def _clean(text: str) -> str:
    text = " ".join(text.replace("\u2019", "'").replace("\u2013", "-").split())
    return text.strip(" .!?;").strip()


def _unquote(text: str) -> str:
    text = text.strip(" ,;:-")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


# --- intents -----------------------------------------------------------------------------


def _invocation(name: str, values: dict[str, Any]) -> ToolInvocation | None:
    try:
        return ToolInvocation(name, TOOLS[name].args.model_validate(values))
    except ValidationError:
        return None  # e.g. an amount of 0: refused here rather than half-understood


_UUID = rx(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COMPLETE = [
    rx(
        r"^(?:please\s+)?(?:mark|set|tick|check)\s+(?:off\s+)?(?:the\s+)?(?:task\s+)?"
        r"(?P<t>.+?)\s+(?:as\s+)?(?:done|complete|completed|finished)$"
    ),
    rx(
        r"^(?:please\s+)?(?:complete|finish|check\s+off|tick\s+off)\s+"
        r"(?:the\s+)?(?:task\s+)?(?P<t>.+)$"
    ),
    rx(r"^(?:i\s+)?(?:have\s+)?(?:finished|completed|did)\s+(?:the\s+)?(?:task\s+)?(?P<t>.+)$"),
    rx(r"^(?:done|finished)\s*(?:with|:|-)\s*(?:the\s+)?(?:task\s+)?(?P<t>.+)$"),
    rx(r"^(?:the\s+)?(?:task\s+)?(?P<t>.+?)\s+is\s+(?:done|complete|completed|finished)$"),
]


def _complete(text: str, ctx: Context) -> ToolInvocation | None:
    for pattern in _COMPLETE:
        match = pattern.match(text)
        if match:
            title = _unquote(match.group("t"))
            if _UUID.fullmatch(title):
                return _invocation("complete_task", {"id": title})
            if not title or title.lower() in ("it", "that", "this", "task", "done"):
                return None
            return _invocation("complete_task", {"title": title})
    return None


_EXPENSE = [
    rx(rf"^(?:i\s+)?(?:spent|paid|spend)\s+{_AMOUNT}\s+(?:on|for)\s+(?P<rest>.+)$"),
    rx(
        rf"^(?:add|record|log|new)\s+(?:an?\s+)?expense(?:\s+of)?\s*:?\s+{_AMOUNT}\s+(?:on|for)\s+(?P<rest>.+)$"
    ),
    rx(rf"^{_AMOUNT}\s+(?:on|for)\s+(?P<rest>.+)$"),
]


def _amount(text: str) -> Decimal | None:
    if re.fullmatch(r"\d+,\d{1,2}", text):
        text = text.replace(",", ".")  # a decimal comma
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def _expense(text: str, ctx: Context) -> ToolInvocation | None:
    for pattern in _EXPENSE:
        match = pattern.match(text)
        if match:
            break
    else:
        return None
    amount = _amount(match.group("amount"))
    rest = match.group("rest")
    times, rest = take_times(rest)
    day, rest, named = take_day(rest, ctx, "past")
    if named and day is None:
        return None
    category = _unquote(re.sub(r"^(?:the|some|my)\s+", "", rest, flags=re.I)).lower()
    if amount is None or not category or len(category.split()) > 3:
        return None
    spent_at: datetime | None = None
    if day is not None or times is not None:
        day = day or ctx.today
        if day == ctx.today and times is None:
            spent_at = None  # "today": now
        else:
            spent_at = ctx.at(day, times.start if times else time(12))
        if spent_at is not None and spent_at > ctx.now:
            return None  # money not yet spent: not an expense
    return _invocation(
        "create_expense", {"amount": amount, "category": category, "spent_at": spent_at}
    )


_TASK = [
    rx(
        r"^(?:please\s+)?(?:add|create|new|make)\s+(?:a\s+|an\s+)?(?:new\s+)?"
        r"(?:task|todo|to-do|to\s+do)\s*:?\s*(?P<body>.*)$"
    ),
    rx(r"^(?:task|todo|to-do)\s*:\s*(?P<body>.*)$"),
    rx(r"^remind\s+me\s+to\s+(?P<body>.+)$"),
]
_DUE = rx(r"^(?P<title>.+?)\s+(?:due|by|before)\s+(?:on\s+)?(?P<when>.+)$")
END_OF_DAY = time(23, 59, 59)


def _when(phrase: str, ctx: Context) -> datetime | None:
    """A due moment that `phrase` names entirely: a day, a time, or both; else None."""
    times, rest = take_times(phrase)
    day, rest, named = take_day(rest, ctx, "future")
    if rest.strip(" ,") or (named and day is None) or (times is None and day is None):
        return None
    if day is None:
        assert times is not None
        day = ctx.today if ctx.at(ctx.today, times.start) > ctx.now else ctx.today + timedelta(1)
    return ctx.at(day, times.start if times else END_OF_DAY)


def _task(text: str, ctx: Context) -> ToolInvocation | None:
    for pattern in _TASK:
        match = pattern.match(text)
        if match:
            break
    else:
        return None
    body = match.group("body").strip()
    title, due = body, None
    due_match = _DUE.match(body)
    if due_match:
        title, due = due_match.group("title"), _when(due_match.group("when"), ctx)
        if due is None:
            return None  # "due <something unreadable>": better ask than guess
    else:
        times, rest = take_times(body)
        day, rest, named = take_day(rest, ctx, "future")
        if named and day is None:
            return None
        if day is not None or times is not None:
            title = rest
            day = day or ctx.today
            due = ctx.at(day, times.start if times else END_OF_DAY)
    title = _unquote(title)
    if not title:
        return None
    return _invocation("create_task", {"title": title, "due": due})


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Questions: every word must be accounted for by a period, a category, or this vocabulary.
_QUESTION_WORDS = _vocabulary(
    "what what's whats is are was were do does did i i've have has had got my me show list "
    "tell give display view any anything there on in for the a of to up coming upcoming going "
    "planned scheduled happening busy all please how much many today's left still"
)
_EVENT_WORDS = _vocabulary("calendar schedule agenda events event meetings meeting appointments")
_TASK_WORDS = _vocabulary(
    "task tasks todo todos to-do to-dos due open overdue done completed finished"
)
_SPEND_WORDS = _vocabulary("spend spent spending expenses expense cost costs paid pay")
_QUESTION = rx(
    r"^(?:what|what's|whats|show|list|tell|give|display|view|any|anything|how|do\s+i|my)\b"
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9'-]+", text.lower())


def _question(text: str, ctx: Context) -> ToolInvocation | None:
    if not (ctx.asked or _QUESTION.match(text)):
        return None
    words = set(_words(text))
    if words & _SPEND_WORDS:
        return _spending_question(text, ctx)
    if words & _TASK_WORDS:
        return _task_question(text, ctx)
    span, rest, named = take_period(text, ctx, "future")
    if named and span is None:
        return None
    leftover = set(_words(rest)) - _QUESTION_WORDS - _EVENT_WORDS
    if leftover or (span is None and not words & _EVENT_WORDS):
        return None
    start, end = span or day_bounds(ctx.today, ctx.tz)
    return _invocation("list_events", {"start": start, "end": end})


def _spending_question(text: str, ctx: Context) -> ToolInvocation | None:
    span, rest, named = take_period(text, ctx, "past")
    if named and span is None:
        return None
    category = None
    match = rx(r"\b(?:on|for)\s+(?P<c>[a-z][a-z&' -]{0,49}?)\s*$").search(rest)
    if match and not set(_words(match.group("c"))) <= _QUESTION_WORDS | _SPEND_WORDS:
        category = match.group("c").strip().lower()
        rest = without(rest, match)
    if set(_words(rest)) - _QUESTION_WORDS - _SPEND_WORDS:
        return None
    if span is None:
        start, end = month_bounds(ctx.today, ctx.tz)
    else:
        start, end = span
    return _invocation("list_expenses", {"start": start, "end": end, "category": category})


def _task_question(text: str, ctx: Context) -> ToolInvocation | None:
    words = set(_words(text))
    span, rest, named = take_period(text, ctx, "future")
    if named and span is None:
        return None
    if set(_words(rest)) - _QUESTION_WORDS - _TASK_WORDS:
        return None
    values: dict[str, Any] = {"is_complete": False}
    if words & {"done", "completed", "finished"}:
        values["is_complete"] = True
    if "overdue" in words:
        values["due_to"] = ctx.now
    elif span is not None:
        values["due_from"], values["due_to"] = span
    return _invocation("list_tasks", values)


_EVENT_VERB = rx(
    r"^(?:please\s+)?(?:add|create|schedule|book|put|plan|set\s+up|new)\s+"
    r"(?:(?:an?\s+)?(?:new\s+)?(?:calendar\s+)?event\s*:?\s*|an?\s+)?"
)


def _event(text: str, ctx: Context) -> ToolInvocation | None:
    verb = _EVENT_VERB.match(text)
    body = text[verb.end() :] if verb else text
    times, rest = take_times(body)
    day, rest, named = take_day(rest, ctx, "future")
    if named and day is None:
        return None
    if times is None and (verb is None or day is None):
        return None  # without a verb, only a clock time makes a sentence an event
    title = _unquote(re.sub(r"\s+(?:on|at|from|for)$", "", rest, flags=re.I))
    if not title or _words(title) == []:
        return None
    if times is None:
        assert day is not None
        first, following = day_bounds(day, ctx.tz)  # an all-day event
        return _invocation("create_event", {"title": title, "start": first, "end": following})
    if day is None:
        upcoming = ctx.at(ctx.today, times.start) > ctx.now
        day = ctx.today if upcoming else ctx.today + timedelta(days=1)
    start = ctx.at(day, times.start)
    end: datetime | None = None
    if times.end is not None:
        end = ctx.at(day, times.end)
        if end <= start:
            end += timedelta(days=1)  # "22:00-01:00" ends the next day
    elif times.length is not None:
        end = start + times.length
    return _invocation("create_event", {"title": title, "start": start, "end": end})


_INTENTS = (_complete, _expense, _task, _question, _event)


def parse_sentence(text: str, now: datetime, tz: ZoneInfo | str) -> ToolInvocation | None:
    """The tool call a plain sentence asks for, or None when it is not understood."""
    try:
        zone = zone_named(tz)
    except AppError:
        return None
    cleaned = _clean(text)
    if not cleaned or len(cleaned) > 500:
        return None
    ctx = Context(now=now.astimezone(zone), tz=zone, asked=text.strip().endswith("?"))
    # A question only ever reads: "lunch tomorrow at 1?" must not create an event.
    intents = (_question,) if ctx.asked else _INTENTS
    for intent in intents:
        found = intent(cleaned, ctx)
        if found is not None:
            return found
    return None
