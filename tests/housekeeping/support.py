"""Running the housekeeping kinds directly (tests/job_context.py), and reading /metrics."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from everything_app.core.jobs import JobKinds
from tests.job_context import RecordingJobContext


async def run_kind(app: FastAPI, name: str) -> tuple[Any, RecordingJobContext]:
    """Run the app's job kind `name` as the app's own job (no user), with no arguments."""
    kind = app.state.registry[JobKinds].get(name)
    assert kind is not None, name
    context = RecordingJobContext(app, user_id=None)
    result = await kind.run(context, kind.args())
    return result, context


async def scraped(client: httpx.AsyncClient) -> dict[str, float]:
    """`/metrics` as {sample name{labels}: value}."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values
