"""Reading an uploaded CSV or iCalendar file into candidate rows for the planner's tables.

No database here: a parser turns text into `Candidate`s (a table, where the row came from, the
values of its create body) and `Refusal`s (where, which field, why). The caller validates each
candidate with the table's own create schema (the REST rules, see `import_action`), so a value
is accepted or refused here exactly as `POST /api/{table}` would.

A file that cannot be read at all (no header, an unknown column, not iCalendar) is an
`UnreadableFile` with a message for the user; a bad row never stops the rows after it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import icalendar

TableName = Literal["events", "tasks", "expenses"]

# At most this many rows (or iCalendar events and to-dos) in one file.
MAX_ROWS = 10_000
# A reason is cut to this length (a parser's message may quote the input).
MAX_REASON = 300
# The CSV module refuses a field longer than its limit (128 KiB): far above any column's.
BOM = "\ufeff"


class UnreadableFile(ValueError):
    """The file as a whole cannot be imported; the message says why, for the user."""


@dataclass(frozen=True)
class Candidate:
    table: TableName
    row: int  # 1-based: the n-th data row of a CSV file, the n-th VEVENT/VTODO of an .ics
    line: int  # the line of the file it starts on (1-based)
    values: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    table: TableName
    row: int
    line: int
    field: str | None  # None when the refusal is about the row as a whole
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.row,
            "line": self.line,
            "field": self.field,
            "reason": self.reason[:MAX_REASON],
        }


Parsed = Candidate | Refusal


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """A table's CSV columns: every field of its create body, and those without a default."""

    table: TableName
    fields: tuple[str, ...]
    required: frozenset[str]


def read_header(table: TableName, cells: list[str], columns: Columns) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    if names and names[0].startswith(BOM):
        names[0] = names[0][len(BOM) :].strip()
    listed = ", ".join(columns.fields)
    unknown = [name for name in names if name not in columns.fields]
    if unknown:
        shown = ", ".join(repr(name[:50]) for name in unknown[:5])
        raise UnreadableFile(
            f"The header row names unknown column(s) {shown}; the columns of {table} are: {listed}."
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UnreadableFile(f"The header row names {', '.join(repeated)} more than once.")
    missing = sorted(columns.required - set(names))
    if missing:
        raise UnreadableFile(
            f"The header row lacks the required column(s) {', '.join(missing)}; the columns "
            f"of {table} are: {listed}."
        )
    return names


def parse_csv(text: str, columns: Columns) -> Iterator[Parsed]:
    """The rows of a CSV file whose first (non-blank) row names the columns.

    An empty cell leaves its field out (its default applies, as when a JSON body omits it);
    blank lines are skipped; a row with more or fewer cells than the header is refused (empty
    cells past the last column, as a trailing comma leaves, are ignored).
    Cells are text: one that looks like a spreadsheet formula (`=1+2`) is kept as written.
    """
    table = columns.table
    if text.startswith(BOM):
        text = text[len(BOM) :]
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    header: list[str] | None = None
    row = 0
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line (or a row of empty cells)
            if header is None:
                header = read_header(table, cells, columns)
                continue
            row += 1
            if row > MAX_ROWS:
                raise UnreadableFile(f"The file has more than {MAX_ROWS} rows; split it.")
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
                cells = cells[: len(header)]  # empty cells after the last column (a trailing comma)
            if len(cells) != len(header):
                reason = f"The row has {len(cells)} cells; the header has {len(header)}."
                yield Refusal(table, row, line, None, reason)
                continue
            values = {name: cell for name, cell in zip(header, cells, strict=True) if cell != ""}
            yield Candidate(table, row, line, values)
    except csv.Error as exc:
        raise UnreadableFile(
            f"The file is not valid CSV (line {reader.line_num}): {_short(exc)}."
        ) from None
    if header is None:
        raise UnreadableFile("The file is empty: the first row must name the columns.")


# --- iCalendar -----------------------------------------------------------------------------

_BEGIN = re.compile(r"^BEGIN:(VEVENT|VTODO)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


def _lines_of_components(text: str) -> list[int]:
    """The line each VEVENT and VTODO begins on, in file order (as `walk` yields them)."""
    lines, line, counted = [], 1, 0
    for match in _BEGIN.finditer(text):
        line += text.count("\n", counted, match.start())  # from the previous match on
        counted = match.start()
        lines.append(line)
    return lines


def _instant(value: date | datetime, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """An aware UTC instant. A floating time (no zone) is read in `zone`; a date is its
    local midnight in `zone` (or, for a due date, the last second of that day)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    moment = datetime.combine(value, time(23, 59, 59) if end_of_day else time(), tzinfo=zone)
    return moment.astimezone(UTC)


def _text(component: icalendar.Component, name: str) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):  # a property given more than once: the first one
        value = value[0]
    return str(value)


def _when(component: icalendar.Component, name: str) -> date | datetime | None:
    prop = component.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        prop = prop[0]
    value = getattr(prop, "dt", None)
    if not isinstance(value, date):
        raise ValueError(f"{name} is not a date or a date-time")
    return value


def _event(component: icalendar.Component, zone: ZoneInfo) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (title := _text(component, "SUMMARY")) is not None:
        values["title"] = title
    if (description := _text(component, "DESCRIPTION")) is not None:
        values["description"] = description
    start = _when(component, "DTSTART")
    if start is None:
        return values  # refused by the schema: start_time is required
    values["start_time"] = _instant(start, zone)
    end = _when(component, "DTEND")
    if end is None:
        duration = component.get("DURATION")
        if duration is not None and isinstance(getattr(duration, "dt", None), timedelta):
            end = start + duration.dt
        elif not isinstance(start, datetime):
            end = start + timedelta(days=1)  # an all-day event lasts its day (RFC 5545)
        else:
            end = start  # an instant: no duration, which the schema refuses with its reason
    values["end_time"] = _instant(end, zone)
    return values


def _task(component: icalendar.Component, zone: ZoneInfo) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if (title := _text(component, "SUMMARY")) is not None:
        values["title"] = title
    due = _when(component, "DUE")
    if due is not None:
        values["due_date"] = _instant(due, zone, end_of_day=True)
    status = (_text(component, "STATUS") or "").upper()
    values["is_complete"] = status == "COMPLETED" or component.get("COMPLETED") is not None
    return values


_KINDS: Mapping[str, tuple[TableName, Any]] = {
    "VEVENT": ("events", _event),
    "VTODO": ("tasks", _task),
}


def parse_ics(text: str, zone: ZoneInfo) -> Iterator[Parsed]:
    """VEVENTs as events and VTODOs as tasks. Times with a TZID are read in that zone (an
    IANA name, or the file's own VTIMEZONE definition), UTC times as UTC, floating times and
    dates in `zone`. A recurring event is imported once, at its first occurrence."""
    if text.startswith(BOM):
        text = text[len(BOM) :]
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # a third-party parser fed arbitrary text: any failure is "unreadable"
        raise UnreadableFile(f"The file is not valid iCalendar: {_short(exc)}.") from None
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise UnreadableFile(
            "The file is not an iCalendar file: it must start with BEGIN:VCALENDAR."
        )
    lines = _lines_of_components(text)
    row = 0
    try:
        components = [c for c in calendar.walk() if c.name in _KINDS]
    except Exception as exc:
        raise UnreadableFile(f"The file is not valid iCalendar: {_short(exc)}.") from None
    if len(components) > MAX_ROWS:
        raise UnreadableFile(f"The file has more than {MAX_ROWS} events and to-dos; split it.")
    for component in components:
        row += 1
        table, read = _KINDS[str(component.name)]
        line = lines[row - 1] if row <= len(lines) else 0
        try:
            values = read(component, zone)
        except Exception as exc:  # a property the library could not make sense of
            yield Refusal(
                table, row, line, None, f"The {component.name} cannot be read: {_short(exc)}."
            )
            continue
        yield Candidate(table, row, line, values)


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200].rstrip(".")
