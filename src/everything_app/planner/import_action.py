"""`planner.import`: events, tasks or expenses from an uploaded CSV or iCalendar file.

Each row is validated with its table's create schema (the owned-table registry's, so the
rules are the REST ones) and the valid rows are written through `owned.create_rows`, which
records a change for each (live queries update). Refused rows are reported with their row,
line, field and reason.

Nothing half-imported, nothing imported twice. All rows are written in one transaction,
together with a `PlannerImport` record whose id is the job's id:

- the job fails or its worker dies before the commit: no row and no record are kept;
- the job runs again after the commit (a retry, a redelivery, a second worker racing the
  first): the record is found and its stored result returned, nothing is written; of two
  runs racing past that check, the record's primary key lets only one commit, and the
  other finds its record on the way out.

The rows are read and validated first, reporting progress; then one short write
transaction. (Progress goes to the job row, which on SQLite could not be written while
the import held the database's write lock.)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from everything_app.core.clock import TimezoneName, zone_named
from everything_app.core.jobs import JobContext, JobFailed
from everything_app.core.validation import Input
from everything_app.owned import OwnedTable, create_rows
from everything_app.planner.import_files import (
    Candidate,
    Columns,
    Parsed,
    Refusal,
    TableName,
    UnreadableFile,
    parse_csv,
    parse_ics,
)
from everything_app.planner.models import PlannerImport
from everything_app.planner.tables import PLANNER_TABLES

# The file's text, in characters (the request body is also bounded by MAX_BODY_BYTES).
MAX_CONTENT = 1_000_000
# Progress is reported about this many times while the rows are read.
PROGRESS_STEPS = 20
# Rows written per flush (one multi-row INSERT each).
WRITE_BATCH = 500
TABLES: dict[str, OwnedTable] = {table.path: table for table in PLANNER_TABLES}


class ImportArgs(Input):
    """What to import: the file's text and its format; for CSV, which table it fills."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csv", "ics"] = Field(description="`csv` or `ics` (iCalendar).")
    content: str = Field(
        min_length=1,
        max_length=MAX_CONTENT,
        description="The file's text (UTF-8 as sent in the JSON body). CSV: a header row "
        "naming the columns, then one row per record.",
    )
    table: TableName | None = Field(
        default=None,
        description="CSV only (and required there): the table the rows go to. An .ics file "
        "fills events (VEVENT) and tasks (VTODO) by itself.",
    )
    timezone: TimezoneName = Field(
        default="UTC",
        description="iCalendar only: the zone of floating times and all-day dates.",
    )

    @field_validator("content")
    @classmethod
    def _text(cls, value: str) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the content is not valid Unicode text (a lone surrogate)") from None
        return value

    @model_validator(mode="after")
    def _table_for_csv(self) -> ImportArgs:
        if self.format == "csv" and self.table is None:
            raise ValueError("a CSV import names its `table`: events, tasks or expenses")
        if self.format == "ics" and self.table is not None:
            raise ValueError("an .ics import fills events and tasks itself: leave out `table`")
        return self


class RowRefusal(BaseModel):
    table: TableName
    row: int
    line: int
    field: str | None
    reason: str


class ImportResult(BaseModel):
    imported: dict[str, int] = Field(description="Rows written, per table.")
    refused: list[RowRefusal] = Field(description="Every refused row, in file order.")


def columns_of(table: OwnedTable) -> Columns:
    fields = table.create.model_fields
    required = frozenset(name for name, info in fields.items() if info.is_required())
    return Columns(table.path, tuple(fields), required)  # type: ignore[arg-type]


def parse(args: ImportArgs) -> list[Parsed]:
    """The file's rows; JobFailed (a clear message) when the file cannot be read at all."""
    try:
        if args.format == "csv":
            assert args.table is not None
            return list(parse_csv(args.content, columns_of(TABLES[args.table])))
        return list(parse_ics(args.content, zone_named(args.timezone)))
    except UnreadableFile as exc:
        raise JobFailed(str(exc)) from None


def check(candidate: Candidate) -> BaseModel | list[Refusal]:
    """The candidate as its table's create body, or why not (one refusal per error)."""
    schema = TABLES[candidate.table].create
    try:
        return schema.model_validate(candidate.values)
    except ValidationError as exc:
        return [
            Refusal(
                candidate.table,
                candidate.row,
                candidate.line,
                ".".join(str(part) for part in err["loc"]) or None,
                err["msg"].removeprefix("Value error, "),
            )
            for err in exc.errors(include_url=False, include_input=False)
        ]


async def _stored(db: AsyncSession, job_id: uuid.UUID) -> dict[str, Any] | None:
    found = await db.scalar(select(PlannerImport.result).where(PlannerImport.id == job_id))
    return dict(found) if found is not None else None


async def _write(
    db: AsyncSession, user_id: uuid.UUID, bodies: Sequence[tuple[str, BaseModel]]
) -> None:
    """The rows in file order, a batch of one table's consecutive rows per flush."""
    batch: list[Any] = []
    batch_table = ""
    for table_name, body in bodies:
        if batch and (table_name != batch_table or len(batch) >= WRITE_BATCH):
            await create_rows(db, TABLES[batch_table], user_id, batch)
            batch = []
        batch_table = table_name
        batch.append(body)
    if batch:
        await create_rows(db, TABLES[batch_table], user_id, batch)


async def run_import(ctx: JobContext, args: ImportArgs) -> dict[str, Any]:
    user_id = ctx.user_id
    if user_id is None:
        raise JobFailed("planner.import runs for a user.")
    async with ctx.unit_of_work() as db:
        done = await _stored(db, ctx.job_id)
    if done is not None:
        return done  # this job already imported (an earlier attempt committed)

    await ctx.progress(0, "Reading the file")
    parsed = parse(args)
    step = max(1, len(parsed) // PROGRESS_STEPS)
    bodies: list[tuple[str, BaseModel]] = []
    refused: list[Refusal] = []
    for index, item in enumerate(parsed, start=1):
        checked = check(item) if isinstance(item, Candidate) else [item]
        if isinstance(checked, list):
            refused.extend(checked)
        else:
            bodies.append((item.table, checked))
        if index % step == 0 or index == len(parsed):
            await ctx.progress(90 * index // len(parsed), f"Checked {index} of {len(parsed)} rows")

    imported: dict[str, int] = {"events": 0, "tasks": 0} if args.table is None else {args.table: 0}
    for table_name, _ in bodies:
        imported[table_name] += 1
    result = ImportResult(
        imported=imported,
        refused=[RowRefusal.model_validate(r.as_json()) for r in refused],
    ).model_dump(mode="json")

    await ctx.progress(90, f"Writing {len(bodies)} rows")
    try:
        async with ctx.unit_of_work(write=True) as db:
            earlier = await _stored(db, ctx.job_id)
            if earlier is not None:
                return earlier  # another run of this job committed meanwhile
            await _write(db, user_id, bodies)
            db.add(PlannerImport(id=ctx.job_id, user_id=user_id, result=result))
            await db.flush()
    except IntegrityError:
        # A run of the same job committed its record first (PostgreSQL): its rows stand,
        # ours are rolled back. Anything else is a real error, raised as it is.
        async with ctx.unit_of_work() as db:
            earlier = await _stored(db, ctx.job_id)
        if earlier is None:
            raise
        return earlier
    refused_rows = len({(r.table, r.row) for r in refused})
    await ctx.progress(100, f"Imported {len(bodies)} rows, refused {refused_rows}")
    return result
