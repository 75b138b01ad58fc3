"""OPENTELEMETRY: FastAPI's native spans for every request, through the global provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import AppWith

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def provider() -> None:
    """The process-wide provider an SDK would configure (it can be set once per process; an
    app with OPENTELEMETRY off never asks for it)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    configured = TracerProvider()
    configured.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(configured)


@pytest.fixture
def exporter(provider: None) -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


async def test_requests_are_traced_only_when_opentelemetry_is_on(
    app_with: AppWith, exporter: InMemorySpanExporter
) -> None:
    off = await app_with()
    assert (await off.client().get("/healthz")).status_code == 200
    assert exporter.get_finished_spans() == ()

    on = await app_with(opentelemetry=True)
    assert (await on.client().get("/healthz")).status_code == 200
    spans = exporter.get_finished_spans()
    assert spans, "a request made no span"
    server = [span for span in spans if span.kind is trace.SpanKind.SERVER]
    assert [span.attributes.get("http.route") for span in server if span.attributes] == ["/healthz"]
