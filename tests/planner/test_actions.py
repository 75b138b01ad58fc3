"""The planner's actions end to end (both databases, the embedded queue): `POST
/api/actions/{name}` → a job → its result over REST; bad arguments are a 422 with no job;
another user never sees the job or its result."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from everything_app.core.changes import Change
from everything_app.testing import OpenAIStandin, Reply, serve
from tests.jobs.conftest import JobsApps, job_in
from tests.planner.test_import import EVENTS_CSV, EVENTS_REFUSED
from tests.planner.test_summary import FIGURES, MODELS, OPENAI_KEY, WEEK_TEXT
from tests.planner.test_summary import _seed as seed_week


@pytest.fixture
async def jobs_apps(database_url: str, tmp_path: Path) -> AsyncIterator[JobsApps]:
    """Apps with jobs run in-process (the embedded queue, fast engine loops)."""
    async with AsyncExitStack() as stack:
        yield JobsApps(stack, database_url, tmp_path)


async def _start(client: httpx.AsyncClient, name: str, body: dict[str, Any]) -> str:
    response = await client.post(f"/api/actions/{name}", json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


async def test_an_import_runs_as_a_job_and_only_its_owner_sees_it(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start(features=())
    client, stranger = await jobs_apps.user(app), await jobs_apps.user(app)
    announced: list[Change] = []
    app.state.changes.listen(announced.extend)
    body = {"format": "csv", "table": "events", "content": EVENTS_CSV}
    job_id = await _start(client, "planner.import", body)
    done = await job_in(client, job_id, "succeeded", "failed")
    assert done["status"] == "succeeded", done
    assert done["result"] == {"imported": {"events": 3}, "refused": EVENTS_REFUSED}
    assert (done["progress"], done["message"]) == (100, "Imported 3 rows, refused 4")
    assert done["attempts"] == 1
    events = (await client.get("/api/events")).json()["data"]
    assert len(events) == 3
    # Each row was announced to live queries (after the job's commit).
    inserted = {str(c.row_id) for c in announced if c.table == "calendar_events"}
    assert inserted == {e["id"] for e in events}
    # Another user: no job, no result, no rows.
    assert (await stranger.get(f"/api/jobs/{job_id}")).status_code == 404
    assert (await stranger.post(f"/api/jobs/{job_id}/cancel")).status_code == 404
    assert (await stranger.get("/api/jobs")).json()["data"] == []
    assert (await stranger.get("/api/events")).json()["data"] == []


async def test_an_unreadable_file_fails_the_job_at_once_with_its_reason(
    jobs_apps: JobsApps,
) -> None:
    app = await jobs_apps.start(features=())
    client = await jobs_apps.user(app)
    body = {"format": "csv", "table": "tasks", "content": "name,when\nx,y\n"}
    job_id = await _start(client, "planner.import", body)
    failed = await job_in(client, job_id, "failed", "succeeded")
    assert failed["status"] == "failed"
    assert failed["attempts"] == 1  # not retried: the file does not get better
    assert "unknown column(s) 'name', 'when'" in failed["error"]
    assert "title, is_complete, due_date" in failed["error"]
    assert (await client.get("/api/tasks")).json()["data"] == []


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("planner.import", {"format": "csv", "content": "title\nx\n"}, None),
        ("planner.import", {"format": "pdf", "table": "tasks", "content": "x"}, "format"),
        ("planner.import", {"format": "csv", "table": "tasks", "content": ""}, "content"),
        ("planner.import", {"format": "ics", "content": "x", "owner": "me"}, "owner"),
        ("planner.summary", {"date": "2026-02-30"}, "date"),
        ("planner.summary", {"date": "2026-11-18", "timezone": "Nowhere/City"}, "timezone"),
        ("planner.summary", {}, "date"),
    ],
)
async def test_bad_arguments_are_a_422_and_start_nothing(
    jobs_apps: JobsApps, name: str, body: dict[str, Any], field: str | None
) -> None:
    app = await jobs_apps.start(features=())
    client = await jobs_apps.user(app)
    response = await client.post(f"/api/actions/{name}", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    if field is not None:
        assert any(field in detail["loc"] for detail in error["details"]), error
    assert (await client.get("/api/jobs")).json()["data"] == []


async def test_the_actions_are_listed_with_their_schemas(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start(features=())
    client = await jobs_apps.user(app)
    actions = {a["name"]: a for a in (await client.get("/api/actions")).json()["data"]}
    assert set(actions["planner.import"]["input_schema"]["properties"]) == {
        "format",
        "content",
        "table",
        "timezone",
    }
    assert set(actions["planner.summary"]["input_schema"]["properties"]) == {"date", "timezone"}


async def test_an_offline_summary_runs_as_a_job(jobs_apps: JobsApps) -> None:
    app = await jobs_apps.start(features=())
    client, stranger = await jobs_apps.user(app), await jobs_apps.user(app)
    await seed_week(client)
    job_id = await _start(
        client, "planner.summary", {"date": "2026-11-20", "timezone": "Europe/Paris"}
    )
    done = await job_in(client, job_id, "succeeded", "failed")
    assert done["status"] == "succeeded", done
    assert done["result"] == {
        "text": WEEK_TEXT,
        "week_start": "2026-11-16",
        "week_end": "2026-11-22",
        "timezone": "Europe/Paris",
        "model": "offline",
        "figures": FIGURES,
    }
    assert (await stranger.get(f"/api/jobs/{job_id}")).status_code == 404


async def test_a_model_written_summary_runs_as_a_job(jobs_apps: JobsApps) -> None:
    async with AsyncExitStack() as stack:
        openai = OpenAIStandin(api_key=OPENAI_KEY)
        openai_url = await stack.enter_async_context(serve(openai.app))
        app = await jobs_apps.start(
            features=(),
            openai_api_key=OPENAI_KEY,
            openai_base_url=f"{openai_url}/v1",
            ai_models=json.dumps(MODELS),
            ai_retry_base_delay=0.0,
        )
        client = await jobs_apps.user(app)
        await seed_week(client)
        openai.script.push(Reply(text="Four events, four open tasks, 50.00 spent."))
        job_id = await _start(
            client, "planner.summary", {"date": "2026-11-16", "timezone": "Europe/Paris"}
        )
        done = await job_in(client, job_id, "succeeded", "failed")
        assert done["status"] == "succeeded", done
        assert done["result"]["text"] == "Four events, four open tasks, 50.00 spent."
        assert done["result"]["model"] == "gpt-test"
        (request,) = openai.script.requests
        assert request.body["messages"][-1]["content"].endswith(WEEK_TEXT)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"format": "csv", "table": "events", "content": "title\\n\xff\xfe\\n"}',  # not UTF-8
        b'{"format": "csv", "table": "events", "content": "title\\n\\ud800\\n"}',  # a surrogate
    ],
)
async def test_text_that_is_not_unicode_is_refused_with_no_job(
    jobs_apps: JobsApps, raw: bytes
) -> None:
    app = await jobs_apps.start(features=())
    client = await jobs_apps.user(app)
    response = await client.post(
        "/api/actions/planner.import",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert "error" in response.json()
    assert (await client.get("/api/jobs")).json()["data"] == []
