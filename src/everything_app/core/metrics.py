"""Prometheus metrics, served by `GET /metrics` (see `core.observability`).

Counters and histograms are process-wide objects, incremented where things happen (the
request middleware, the rate limiter, chat and the gateway). They are created with
`registry=None` and registered in a registry made per app, next to a collector that reads
live state (database pool, streams, sockets) from `app.state` only at scrape time, so nothing
has to keep those gauges up to date and several apps in one process (the tests) do not clash.

State every instance shares (the last backup's outcome) is read from the database when
Prometheus scrapes: features add readers to `DatabaseMetrics` (a registry kind), `/metrics`
refreshes them before it answers, so every instance reports the same figures (aggregate them
with max(), not sum()).

Labels are bounded on purpose: routes are templates (`/api/keys/{id}`), never raw paths, so
no id ever becomes a time series.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.core.db import unit_of_work
from everything_app.core.logging import get_logger

log = get_logger(__name__)

UNMATCHED = "unmatched"

HTTP_REQUESTS = Counter(
    "everything_app_http_requests",
    "HTTP requests and WebSocket handshakes, by route template and status.",
    ["method", "route", "status"],
    registry=None,
)
HTTP_LATENCY = Histogram(
    "everything_app_http_request_duration_seconds",
    "Time until the response ended (a whole stream for SSE answers), by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=None,
)
AI_TOKENS = Counter(
    "everything_app_ai_tokens",
    "Tokens reported by AI providers, by source (chat or gateway), provider, model, direction.",
    ["source", "provider", "model", "direction"],
    registry=None,
)
RATE_LIMITED = Counter(
    "everything_app_rate_limit_rejections",
    "Requests refused with 429, by rule (e.g. sign-in-ip, chat, gateway-key).",
    ["rule"],
    registry=None,
)
JOBS_FINISHED = Counter(
    "everything_app_jobs_finished",
    "Job runs that ended in this process, by kind and outcome (succeeded, failed, canceled, "
    "retrying: failed and queued again, handed_back: queued again at shutdown).",
    ["kind", "status"],
    registry=None,
)
JOBS_QUEUE_LATENCY = Histogram(
    "everything_app_jobs_queue_latency_seconds",
    "From a job's due time (enqueue, or its run_at) to its start, by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=None,
)
BACKUPS = Counter(
    "everything_app_backups",
    "Scheduled backups this process ran, by outcome (ok or failed).",
    ["outcome"],
    registry=None,
)
_SHARED = (
    HTTP_REQUESTS,
    HTTP_LATENCY,
    AI_TOKENS,
    RATE_LIMITED,
    JOBS_FINISHED,
    JOBS_QUEUE_LATENCY,
    BACKUPS,
)


# The request metrics' children by (method, route template, status): `labels()` checks and
# locks on every call, a cost on every request; the set is as bounded as the metrics' own.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str | None, status: int, seconds: float | None) -> None:
    """`route` is the matched route's template; None (no route matched) is `unmatched`."""
    key = (method, route or UNMATCHED, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = _REQUEST_CHILDREN[key] = (
            HTTP_REQUESTS.labels(key[0], key[1], str(status)),
            HTTP_LATENCY.labels(key[0], key[1]),
        )
    children[0].inc()
    if seconds is not None:
        children[1].observe(seconds)


def count_tokens(
    source: str, provider: str, model: str, input_tokens: int, output_tokens: int
) -> None:
    """`model` is one of the configured model ids (the registry bounds them), never free text."""
    if input_tokens:
        AI_TOKENS.labels(source, provider, model, "input").inc(input_tokens)
    if output_tokens:
        AI_TOKENS.labels(source, provider, model, "output").inc(output_tokens)


def count_rate_limited(rule: str) -> None:
    RATE_LIMITED.labels(rule).inc()


def observe_job_started(kind: str, waited_seconds: float) -> None:
    """`kind` is a registered job kind (bounded), never free text."""
    JOBS_QUEUE_LATENCY.labels(kind).observe(waited_seconds)


def count_job_finished(kind: str, status: str) -> None:
    JOBS_FINISHED.labels(kind, status).inc()


def count_backup(outcome: str) -> None:
    """`outcome`: ok or failed."""
    BACKUPS.labels(outcome).inc()


# Reads metric families from the database, on a read-only unit of work acting for nobody.
MetricsReader = Callable[[AsyncSession], Awaitable[Iterable[Metric]]]
READ_TIMEOUT = 2.0  # seconds: a scrape answers without these rather than hang on the database


class DatabaseMetrics:
    """Metrics read from the database at scrape time (a registry kind, see core.features):
    `refresh` (awaited by `/metrics`) reads them, `collect` yields what was read last."""

    def __init__(self) -> None:
        self._readers: list[MetricsReader] = []
        self._latest: list[Metric] = []

    def add(self, reader: MetricsReader) -> None:
        self._readers.append(reader)

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession] | None) -> None:
        found: list[Metric] = []
        if sessionmaker is not None and self._readers:
            try:
                async with asyncio.timeout(READ_TIMEOUT):
                    async with unit_of_work(sessionmaker) as db:
                        for reader in self._readers:
                            found.extend(await reader(db))
            except Exception as exc:  # the database is down: its figures are absent
                log.warning("database_metrics_unread", error=type(exc).__name__)
                found = []
        self._latest = found

    def collect(self) -> Iterable[Metric]:
        return list(self._latest)


class AppStateCollector(Collector):
    """Gauges read from the app's live objects when Prometheus scrapes."""

    def __init__(self, state: Any) -> None:
        self._state = state  # app.state: filled by the lifespan, read lazily

    def collect(self) -> Iterable[Metric]:
        pool = getattr(getattr(self._state, "engine", None), "pool", None)
        checked_out = GaugeMetricFamily(
            "everything_app_db_pool_checked_out", "Database connections in use."
        )
        size = GaugeMetricFamily(
            "everything_app_db_pool_size", "Connections the database pool keeps open."
        )
        # SQLite's pool may have neither figure; a missing gauge beats a made-up one.
        if pool is not None and hasattr(pool, "checkedout"):
            checked_out.add_metric([], pool.checkedout())
        if pool is not None and hasattr(pool, "size"):
            size.add_metric([], pool.size())
        yield checked_out
        yield size

        streams = GaugeMetricFamily(
            "everything_app_chat_streams_active", "Chat answers being generated in this process."
        )
        generations = getattr(self._state, "generations", None)
        if generations is not None:
            streams.add_metric([], generations.active_count)
        yield streams

        connections = GaugeMetricFamily(
            "everything_app_realtime_connections",
            "Live-query connections in this process, by transport (websocket or sse).",
            labels=["transport"],
        )
        realtime = getattr(self._state, "realtime", None)
        if realtime is not None:
            counts = {"websocket": 0, "sse": 0}
            for conn in list(realtime.hub.connections):
                counts[conn.transport] = counts.get(conn.transport, 0) + 1
            for transport, count in sorted(counts.items()):
                connections.add_metric([transport], count)
        yield connections

        backlog = GaugeMetricFamily(
            "everything_app_jobs",
            "Jobs queued and running (all instances), by kind and status, as this process's "
            "scheduler last counted them (each JOBS_POLL_SECONDS while /metrics is scraped).",
            labels=["kind", "status"],
        )
        jobs = getattr(self._state, "jobs", None)
        if jobs is not None:
            for (kind, status), count in sorted(jobs.read_backlog().items()):
                backlog.add_metric([kind, status], count)
        yield backlog

        registry = getattr(self._state, "registry", None)
        if registry is not None:
            yield from registry[DatabaseMetrics].collect()


def build_registry(state: Any) -> CollectorRegistry:
    """The registry one app serves: the shared metrics, its live state, this process."""
    registry = CollectorRegistry(auto_describe=True)
    for metric in _SHARED:
        registry.register(metric)
    registry.register(AppStateCollector(state))
    ProcessCollector(registry=registry)  # CPU, memory, open files (Linux only, else empty)
    GCCollector(registry=registry)  # collections by generation (see core.heap)
    return registry
