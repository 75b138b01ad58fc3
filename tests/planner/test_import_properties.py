"""Property tests of the import parsers: any text gives rows, refusals or one clear
`UnreadableFile`, never another exception; what a CSV writer or an iCalendar library
writes is read back exactly."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from everything_app.core.jobs import JobFailed
from everything_app.planner.import_action import (
    TABLES,
    ImportArgs,
    check,
    columns_of,
    parse,
)
from everything_app.planner.import_files import (
    Candidate,
    Refusal,
    UnreadableFile,
    parse_csv,
    parse_ics,
)

EVENTS = columns_of(TABLES["events"])
PARIS = ZoneInfo("Europe/Paris")
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]

# Text as a file might hold it: anything but NUL (refused with the arguments) and lone
# surrogates (not Unicode text), with the characters CSV and iCalendar give meaning to.
file_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(',;"\r\n:=\\ \t\ufeff'),
        st.characters(codec="utf-8", blacklist_characters="\x00"),
    ),
    max_size=400,
)
cell = st.text(
    alphabet=st.characters(codec="utf-8", blacklist_characters="\x00"),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(file_text)
def test_any_csv_text_gives_rows_refusals_or_one_clear_failure(text: str) -> None:
    try:
        parsed = list(parse_csv("title,start_time,end_time\n" + text, EVENTS))
    except UnreadableFile as exc:
        failure: str | None = str(exc)
    else:
        failure = None
    if failure is not None:
        assert failure.endswith(".")  # a sentence for the user
        return
    rows = [item.row for item in parsed]
    assert rows == list(range(1, len(rows) + 1))
    for item in parsed:
        if isinstance(item, Candidate):
            check(item)  # a create body or refusals: never an exception


@settings(max_examples=300, deadline=None)
@given(file_text, st.sampled_from(["csv", "ics"]))
def test_any_file_fails_the_job_clearly_or_parses(text: str, file_format: str) -> None:
    args = ImportArgs.model_validate(
        {
            "format": file_format,
            "content": text or "x",
            **({"table": "tasks"} if file_format == "csv" else {}),
        }
    )
    try:
        parsed = parse(args)
    except JobFailed as exc:
        failure: str | None = str(exc)
    else:
        failure = None
    if failure is not None:
        assert failure.startswith("The ")
        assert failure.endswith(".")
        return
    for item in parsed:
        if isinstance(item, Candidate):
            check(item)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(cell, cell, cell), max_size=20),
    # A writer ending lines with \n alone quotes a cell holding a lone \r only when told to.
    st.booleans(),
)
def test_what_a_csv_writer_writes_is_read_back_cell_for_cell(
    rows: list[tuple[str, str, str]], crlf: bool
) -> None:
    out = io.StringIO()
    if crlf:
        writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    else:
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["title", "start_time", "end_time"])
    writer.writerows(rows)
    text = out.getvalue()
    parsed = list(parse_csv(text, EVENTS))
    kept = [r for r in rows if any(c.strip() for c in r)]  # blank rows are skipped
    assert all(isinstance(item, Candidate) for item in parsed)
    assert [item.values for item in parsed if isinstance(item, Candidate)] == [
        {k: v for k, v in zip(("title", "start_time", "end_time"), r, strict=True) if v != ""}
        for r in kept
    ]
    # Each row's line is where it starts in the file (a cell may hold line breaks): read
    # from that line on, the file's first record is that row.
    lines = io.StringIO(text, newline="").readlines()
    for item in parsed:
        following = csv.reader(io.StringIO("".join(lines[item.line - 1 :]), newline=""))
        assert tuple(next(following)) == kept[item.row - 1]


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            cell.filter(lambda t: t.strip() != "" and "\r" not in t),
            instants,
            st.integers(min_value=1, max_value=60 * 24 * 30),
            st.sampled_from(ZONES),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_events_an_ical_library_writes_are_read_back_at_the_same_instants(
    events: list[tuple[str, datetime, int, str]],
) -> None:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//test//test//EN")
    calendar.add("version", "2.0")
    for index, (title, start, minutes, zone) in enumerate(events):
        event = icalendar.Event()
        event.add("uid", str(index))
        event.add("summary", title)
        event.add("dtstart", start.astimezone(ZoneInfo(zone)))
        event.add("dtend", (start + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone)))
        calendar.add_component(event)
    text = calendar.to_ical().decode()
    parsed = list(parse_ics(text, PARIS))
    assert len(parsed) == len(events)
    for item, (title, start, minutes, _zone) in zip(parsed, events, strict=True):
        assert isinstance(item, Candidate), item
        assert item.values["title"] == title
        assert item.values["start_time"] == start
        assert item.values["end_time"] == start + timedelta(minutes=minutes)
        assert text.split("\r\n")[item.line - 1] == "BEGIN:VEVENT"


@settings(max_examples=300, deadline=None)
@given(file_text)
def test_any_text_inside_a_calendar_gives_rows_refusals_or_one_clear_failure(
    text: str,
) -> None:
    wrapped = f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    try:
        parsed = list(parse_ics(wrapped, PARIS))
    except UnreadableFile as exc:
        failure: str | None = str(exc)
    else:
        failure = None
    if failure is not None:
        assert failure.startswith("The file is not valid iCalendar")
        return
    for item in parsed:
        assert isinstance(item, Candidate | Refusal)
        if isinstance(item, Candidate):
            check(item)
