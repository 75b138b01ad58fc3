"""Request and response shapes of the planner, shared by the REST routes and the LLM tools."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from everything_app.core.db import utcnow
from everything_app.core.timestamps import Instant, Timestamp
from everything_app.owned import OwnedInput, OwnedOutput
from everything_app.planner.models import CENT

# An event lasts at most this long. The bound lets time-range queries stay on the
# (user_id, start_time) index: an event overlapping [a, b) must start after a - bound.
MAX_EVENT_DURATION = timedelta(days=31)


def _none_if_blank(value: str | None) -> str | None:
    return value or None


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[
    str | None,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_none_if_blank),
]
Category = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(description="Free text such as food or transport; filters ignore case."),
]
Amount = Annotated[
    Decimal,
    Field(
        gt=0,
        max_digits=10,
        decimal_places=2,
        allow_inf_nan=False,
        description="Positive, at most 2 decimals; a decimal string (preferred) or a number. "
        'Always answered as a string, e.g. "12.50".',
    ),
    AfterValidator(_cents),
]


# --- calendar events ---------------------------------------------------------------------


class EventCreate(OwnedInput):
    title: Title
    description: Description = None
    start_time: Timestamp
    end_time: Timestamp

    @model_validator(mode="after")
    def _check_times(self) -> EventCreate:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        if self.end_time - self.start_time > MAX_EVENT_DURATION:
            raise ValueError(f"an event lasts at most {MAX_EVENT_DURATION.days} days")
        return self


class EventUpdate(OwnedInput):
    title: Title | None = None
    description: Description = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None


class EventOut(OwnedOutput):
    title: str
    description: str | None
    start_time: Instant
    end_time: Instant


# --- tasks -------------------------------------------------------------------------------


class TaskCreate(OwnedInput):
    title: Title
    is_complete: bool = False
    due_date: Timestamp | None = None


class TaskUpdate(OwnedInput):
    title: Title | None = None
    is_complete: bool | None = None
    due_date: Timestamp | None = None


class TaskOut(OwnedOutput):
    title: str
    is_complete: bool
    due_date: Instant | None


# --- expenses ----------------------------------------------------------------------------


class ExpenseCreate(OwnedInput):
    amount: Amount
    category: Category
    incurred_at: Timestamp = Field(
        default_factory=utcnow, description="When the money was spent; default: now."
    )


class ExpenseUpdate(OwnedInput):
    amount: Amount | None = None
    category: Category | None = None
    incurred_at: Timestamp | None = None


class ExpenseOut(OwnedOutput):
    amount: Decimal
    category: str
    incurred_at: Instant


# --- dashboard ---------------------------------------------------------------------------


class CategoryTotal(BaseModel):
    category: str = Field(description="Lower-cased: categories are grouped ignoring case.")
    total: Decimal


class DayTotal(BaseModel):
    date: str = Field(description="The local date (ISO), in the requested time zone.")
    total: Decimal


class TaskList(BaseModel):
    count: int = Field(description="How many there are in all (`items` holds at most 50).")
    items: list[TaskOut]


class Dashboard(BaseModel):
    timezone: str
    now: Instant
    today: list[EventOut] = Field(description="Events overlapping today (local).")
    next_7_days: list[EventOut] = Field(
        description="Events overlapping the 7 days after today (local), soonest first."
    )
    open_tasks: TaskList = Field(description="Incomplete tasks, soonest due first.")
    overdue_tasks: TaskList = Field(description="Incomplete tasks whose due date has passed.")
    month_spending: list[CategoryTotal] = Field(
        description="This (local) month's spending by category, largest first."
    )
    month_total: Decimal
    daily_spending: list[DayTotal] = Field(
        description="Spending per local day for the last 30 days, oldest first, zeros included."
    )
