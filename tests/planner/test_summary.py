"""`planner.summary`: the week's figures (both databases), the offline text word for word,
and a model-written summary through the OpenAI stand-in."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from everything_app.ai import ProviderError
from everything_app.core.jobs import JobFailed
from everything_app.planner.summary import SummaryArgs, run_summary
from everything_app.testing import Fail, OpenAIStandin, Reply, serve
from tests.conftest import AppWith, SignedIn, sign_up
from tests.planner.actions import context_for
from tests.planner.conftest import local, post

OPENAI_KEY = "sk-test-openai"
MODELS = [
    {
        "id": "gpt-test",
        "provider": "openai",
        "upstream": "gpt-4o-mini",
        "label": "GPT test",
        "context_window": 4000,
        "max_output_tokens": 500,
    },
    {
        "id": "offline",
        "provider": "offline",
        "upstream": "offline",
        "label": "Offline",
        "context_window": 8192,
        "max_output_tokens": 1024,
    },
]


async def _seed(client: httpx.AsyncClient) -> None:
    """A week in Paris (Monday 16 to Sunday 22 November 2026, UTC+1) and its edges."""
    for title, start, end in [
        ("Overnight train", "2026-11-15T23:00", "2026-11-16T06:00"),  # into the week
        ("Standup", "2026-11-16T09:00", "2026-11-16T09:15"),
        ("Lunch with Sam", "2026-11-18T12:30", "2026-11-18T13:30"),
        ("Late party", "2026-11-22T23:00", "2026-11-23T01:00"),  # out of it
        ("Next week", "2026-11-23T09:00", "2026-11-23T10:00"),
        ("Last week", "2026-11-14T09:00", "2026-11-14T10:00"),
    ]:
        body = {"title": title, "start_time": local(start), "end_time": local(end)}
        await post(client, "/api/events", body)
    for title, due, done in [
        ("Old bill", "2026-11-10T12:00", False),
        ("Pay rent", "2026-11-20T23:59", False),
        ("Far away", "2026-12-15T09:00", False),
        ("Call mum", None, False),
        ("Done already", "2026-11-17T10:00", True),
    ]:
        task: dict[str, Any] = {"title": title, "is_complete": done}
        if due:
            task["due_date"] = local(due)
        await post(client, "/api/tasks", task)
    for amount, category, when in [
        ("12.50", "food", "2026-11-16T12:00"),
        ("7.50", "Food", "2026-11-21T20:00"),
        ("30.00", "transport", "2026-11-22T23:30"),  # Sunday night in Paris, 22:30 UTC
        ("99.00", "rent", "2026-11-23T00:30"),  # next Monday in Paris, still the 22nd in UTC
        ("5.00", "books", "2026-11-15T23:59"),
    ]:
        body = {"amount": amount, "category": category, "incurred_at": local(when)}
        await post(client, "/api/expenses", body)


WEEK_TEXT = """Your week from Mon 16 Nov 2026 to Sun 22 Nov 2026 (Europe/Paris).

Events (4):
- Sun 15 Nov, 23:00 to Mon 16 Nov, 06:00: Overnight train
- Mon 16 Nov, 09:00-09:15: Standup
- Wed 18 Nov, 12:30-13:30: Lunch with Sam
- Sun 22 Nov, 23:00 to Mon 23 Nov, 01:00: Late party

Open tasks (4, 2 due by Sun 22 Nov):
- Old bill (due Tue 10 Nov, 12:00)
- Pay rent (due Fri 20 Nov, 23:59)
- Far away (due Tue 15 Dec, 09:00)
- Call mum (no due date)

Spending: 50.00 in all.
- transport: 30.00
- food: 20.00"""

FIGURES = {
    "events": 4,
    "open_tasks": 4,
    "tasks_due": 2,
    "spending_total": "50.00",
    "spending_by_category": [
        {"category": "transport", "total": "30.00"},
        {"category": "food", "total": "20.00"},
    ],
}


@pytest.mark.parametrize("day", ["2026-11-16", "2026-11-19", "2026-11-22"])
async def test_the_offline_summary_is_the_weeks_figures_as_text(
    app: FastAPI, signed_in: SignedIn, day: str
) -> None:
    client, stranger = await signed_in(), await signed_in()
    await _seed(client)
    await _seed(stranger)  # never counted for the client
    ctx = await context_for(app, client)
    args = SummaryArgs.model_validate({"date": day, "timezone": "Europe/Paris"})
    result = await run_summary(ctx, args)
    assert result == {
        "text": WEEK_TEXT,
        "week_start": "2026-11-16",
        "week_end": "2026-11-22",
        "timezone": "Europe/Paris",
        "model": "offline",
        "figures": FIGURES,
    }
    assert ctx.progress_seen[0][0] == 0
    assert ctx.progress_seen[-1] == (100, "Done")


async def test_an_empty_week_and_a_week_across_a_clock_change(
    app: FastAPI, signed_in: SignedIn
) -> None:
    client = await signed_in()
    ctx = await context_for(app, client)
    empty = await run_summary(ctx, SummaryArgs(date=date(2026, 11, 18)))
    assert empty["text"] == (
        "Your week from Mon 16 Nov 2026 to Sun 22 Nov 2026 (UTC).\n\n"
        "Events: none.\n\nOpen tasks: none.\n\nSpending: none."
    )
    assert empty["figures"]["spending_total"] == "0.00"
    # Paris leaves summer time on Sunday 25 October 2026: that week has 169 hours.
    await post(
        client,
        "/api/expenses",
        {"amount": "4.00", "category": "coffee", "incurred_at": "2026-10-25T23:30:00+01:00"},
    )
    await post(
        client,
        "/api/expenses",
        {"amount": "6.00", "category": "coffee", "incurred_at": "2026-10-19T00:00:00+02:00"},
    )
    autumn = await run_summary(ctx, SummaryArgs(date=date(2026, 10, 25), timezone="Europe/Paris"))
    assert (autumn["week_start"], autumn["week_end"]) == ("2026-10-19", "2026-10-25")
    assert autumn["figures"]["spending_total"] == "10.00"


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2026-11-31"},
        {"date": "tomorrow"},
        {"date": "0001-01-01"},
        {"date": "2026-11-18", "timezone": "Mars/Olympus"},
        {"timezone": "UTC"},
        {"date": "2026-11-18", "model": "gpt-4o"},
    ],
)
def test_bad_arguments_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SummaryArgs.model_validate(body)


async def test_a_configured_model_writes_the_summary_from_the_figures(
    app_with: AppWith,
) -> None:
    async with AsyncExitStack() as stack:
        openai = OpenAIStandin(api_key=OPENAI_KEY)
        openai_url = await stack.enter_async_context(serve(openai.app))
        running = await app_with(
            openai_api_key=OPENAI_KEY,
            openai_base_url=f"{openai_url}/v1",
            ai_models=json.dumps(MODELS),
            ai_retry_base_delay=0.0,
            ai_max_retries=0,
        )
        client = running.client()
        await sign_up(client)
        await _seed(client)
        ctx = await context_for(running.app, client)
        args = SummaryArgs(date=date(2026, 11, 18), timezone="Europe/Paris")

        openai.script.push(Reply(text="A busy week: four events and 50.00 spent."))
        result = await run_summary(ctx, args)
        assert result["text"] == "A busy week: four events and 50.00 spent."
        assert result["model"] == "gpt-test"
        assert result["figures"] == FIGURES
        (request,) = openai.script.requests
        assert request.body["model"] == "gpt-4o-mini"
        # The model gets the week's facts (the offline text) and nothing of anyone else's.
        prompt = request.body["messages"][-1]["content"]
        assert prompt.endswith(WEEK_TEXT)

        openai.script.push(Fail(401, "bad key"))
        with pytest.raises(JobFailed, match="could not write the summary"):
            await run_summary(ctx, args)
        openai.script.push(Fail(503))  # worth another try: the job is retried later
        with pytest.raises(ProviderError):
            await run_summary(ctx, args)
