"""The engine: job messages over taskiq, the runner, and each process's scheduler.

A message carries a job's id only; the `jobs` row is the truth. Delivery is at least once
and the row decides: a worker claims the row (`queued → running`, one atomic UPDATE, with a
lease it renews while the handler runs), so a second delivery of the same job — a redelivery
after a crash, a safety-net resend — finds it running under a live lease or finished, and is
acked and dropped.

Brokers (taskiq): a Redis stream with a consumer group (`RedisStreamBroker`: a message is
acked after its job ran — or was handed to a retry — and a dead consumer's unacked ones are
claimed by others, XAUTOCLAIM), RabbitMQ (`AioPikaBroker`, a durable quorum queue, manual
acks with a prefetch of the concurrency), or in process (`InMemoryBroker`: jobs run inside
`serve`; what was queued when the process stopped is sent again at the next start).

Every process that runs jobs also runs the scheduler loop: cron schedules (one job per
period, deduplicated on the key `schedule:<name>:<period start>`, so several instances run
it once), delayed jobs and retries that came due, and running jobs whose lease expired (their
worker died) back to queued. Each step is an atomic UPDATE … RETURNING: one instance wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver

from everything_app.core import metrics
from everything_app.core.changes import Change, ChangeBus
from everything_app.core.db import UnitOfWork, unit_of_work, utcnow
from everything_app.core.jobs import store
from everything_app.core.jobs.kinds import JobFailed, JobKind, JobKinds, JobServices
from everything_app.core.jobs.models import Job
from everything_app.core.logging import get_logger
from everything_app.core.redis import cancellable_writes
from everything_app.core.shutdown import end_task
from everything_app.settings import Settings

log = get_logger(__name__)
TASK_NAME = "everything_app.job"
# The scheduler counts the backlog while /metrics was scraped this recently.
BACKLOG_INTEREST_SECONDS = 120.0
# How long the broker's listener is given to end once cancelled (past the grace), and its
# connections to close.
LISTENER_CANCEL_SECONDS = 5.0
ServiceT = TypeVar("ServiceT")

# taskiq logs every message at INFO through the standard library; ours say more, per job.
for _name in ("taskiq", "taskiq.receiver.receiver", "taskiq.aio_pika_broker"):
    logging.getLogger(_name).setLevel(logging.WARNING)


def make_broker(settings: Settings) -> AsyncBroker:
    url = settings.resolved_jobs_broker_url
    name = f"{settings.redis_prefix}.jobs"
    if url == "memory":
        return InMemoryBroker(max_async_tasks=settings.jobs_concurrency, max_stored_results=1)
    if url.startswith("amqp"):
        from taskiq_aio_pika import AioPikaBroker, Exchange, Queue

        return AioPikaBroker(
            url,
            qos=settings.jobs_concurrency,
            exchange=Exchange(name=name),
            task_queues=[Queue(name=name)],
            dead_letter_queue=Queue(name=f"{name}.dead"),
        )
    from taskiq_redis import RedisStreamBroker

    broker = RedisStreamBroker(
        url,
        queue_name=name,
        consumer_group_name=name,
        # One message per read: a consumer holds no more than it can start, so the others
        # share the queue fairly and a killed worker strands one message, not a hundred.
        xread_count=1,
        xread_block=1000,
        # A consumer's unacked message idle this long is claimed by another (its worker died).
        idle_timeout=int(max(settings.jobs_lease_seconds * 2, 5) * 1000),
        unacknowledged_lock_timeout=5,
        # Acked entries stay in a stream until trimmed; the rows are the truth, and a lost
        # message is sent again by the scheduler.
        maxlen=100_000,
    )
    # Its listener is cancelled at shutdown in the middle of a read loop: see core.redis.
    cancellable_writes(broker.connection_pool)
    return broker


@dataclass
class _Running:
    job: store.JobRef
    kind: str
    task: asyncio.Task[Any] | None = None
    stop_reason: str | None = None  # "canceled" or "shutdown" once asked to stop
    in_handler: bool = True


class _Stop(Exception):
    """The job is no longer ours (canceled, or its lease lost): stop the handler."""


@dataclass
class RunningContext:
    """The JobContext of a job running in this process."""

    runtime: JobsRuntime
    job_id: uuid.UUID
    user_id: uuid.UUID | None
    attempt: int
    ref: store.JobRef = field(init=False)

    def __post_init__(self) -> None:
        self.ref = store.JobRef(self.job_id, self.user_id)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def service(self, kind: type[ServiceT]) -> ServiceT:
        return self.runtime.services.get(kind)

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        return unit_of_work(
            self.runtime.sessionmaker,
            write=write,
            user_id=self.user_id,
            admin=self.user_id is None,
            bus=self.runtime.bus,
        )

    async def progress(self, percent: int, message: str = "") -> None:
        percent = max(0, min(100, int(percent)))
        async with self.runtime.engine_work() as db:
            mine = await store.set_progress(db, self.ref, self.runtime.owner, percent, message)
        if not mine:
            raise _Stop()


class JobsRuntime:
    """One process's side of the queue: sends messages (every process), and runs jobs and
    the scheduler (`run=True`: `serve` unless JOBS_IN_SERVE=false, and `worker`)."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: ChangeBus | None,
        kinds: JobKinds,
        services: JobServices,
        *,
        run: bool,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.kinds = kinds
        self.services = services
        self.run = run
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.embedded = settings.resolved_jobs_broker_url == "memory"
        self.broker = make_broker(settings)
        self.broker.is_worker_process = run and not self.embedded
        self._task = self.broker.register_task(self._message_handler(), task_name=TASK_NAME)
        self._slots = asyncio.Semaphore(settings.jobs_concurrency)
        self._running: dict[uuid.UUID, _Running] = {}
        self._deliveries: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._finish_listening = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._unlisten: Any = None
        self.started = False
        self._broker_up = False
        self._starting: asyncio.Task[None] | None = None
        # Counts by (kind, status) of the queued and running jobs, read at each scrape.
        # Counted by the scheduler only while someone scrapes (`read_backlog`): a count
        # each second is a grouped scan of `jobs` no request asked for.
        self._backlog: dict[tuple[str, str], int] = {}
        self._backlog_read_at: float | None = None

    # --- the dispatcher side (core.jobs.store.Dispatcher) ------------------------------

    def knows(self, kind: str) -> bool:
        return self.kinds.get(kind) is not None

    def max_attempts(self, kind: str) -> int:
        found = self.kinds.get(kind)
        return found.max_attempts if found is not None else 1

    def read_backlog(self) -> dict[tuple[str, str], int]:
        """The last count, for the metrics scrape; asks the scheduler to keep counting."""
        self._backlog_read_at = time.monotonic()
        return self._backlog

    def _backlog_wanted(self) -> bool:
        read_at = self._backlog_read_at
        return read_at is not None and time.monotonic() - read_at < BACKLOG_INTEREST_SECONDS

    @property
    def sends_now(self) -> bool:
        # The embedded queue only reaches this process: if it runs no jobs, the scheduler
        # of the process that does sends the job (it is left marked unsent).
        return self.started and (self.run or not self.embedded)

    async def dispatch(self, job_ids: Sequence[uuid.UUID]) -> None:
        for job_id in job_ids:
            try:
                await self._task.kiq(str(job_id))
            except Exception:
                # The row stays queued and marked sent: the scheduler sends it again after
                # JOBS_REDISPATCH_SECONDS.
                log.exception("job_dispatch_failed", job_id=str(job_id))

    def engine_work(self, *, write: bool = True) -> _EngineWork:
        return _EngineWork(self, write=write)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the broker and start receiving and scheduling. A broker or database
        that cannot be reached does not stop the app from starting (it answers `/readyz`
        with the cause, requests that need neither keep working): the runtime keeps trying
        in the background, and enqueued jobs wait in their rows until it is up."""
        # Sessions made by the app's sessionmaker know where to send what they enqueue.
        self.sessionmaker.configure(info={store.DISPATCHER_KEY: self})
        self.started = True
        try:
            await self._connect()
        except Exception as exc:
            log.warning("jobs_start_deferred", error=repr(exc))
            self._starting = asyncio.create_task(self._connect_when_reachable())
            return
        self._begin_running()

    async def _connect(self) -> None:
        if not self._broker_up:
            await self.broker.startup()
            self._broker_up = True
        if self.run and self.embedded:
            # This process's queue died with its last run: send every queued job again.
            await self._send_due(everything=True)

    async def _connect_when_reachable(self) -> None:
        delay = 0.5
        while not self._stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), timeout=delay)
            if self._stop_event.is_set():
                return
            try:
                await self._connect()
            except Exception as exc:
                delay = min(delay * 2, 30.0)
                log.warning("jobs_start_retrying", error=repr(exc), retry_in=delay)
                continue
            self._begin_running()
            return

    def _begin_running(self) -> None:
        if not self.run:
            return
        if self.bus is not None:
            self._unlisten = self.bus.listen(self._on_changes)
        if not self.embedded:
            receiver = Receiver(
                self.broker,
                max_async_tasks=self.settings.jobs_concurrency,
                ack_type=AcknowledgeType.MANUAL,
                run_startup=False,
                wait_tasks_timeout=self.settings.jobs_shutdown_grace,
            )
            self._listener = asyncio.create_task(receiver.listen(self._finish_listening))
        self._loops = [
            asyncio.create_task(self._scheduler_loop()),
            asyncio.create_task(self._lease_loop()),
        ]
        log.info(
            "jobs_started",
            broker=self.settings.resolved_jobs_broker_url.split("@")[-1],
            concurrency=self.settings.jobs_concurrency,
            owner=self.owner,
        )

    async def stop(self) -> None:
        """Stop taking messages; let running jobs finish within JOBS_SHUTDOWN_GRACE seconds;
        hand the rest back (queued again, their messages not acked)."""
        if not self.started:
            return
        self._stopping = True
        self._stop_event.set()
        self._finish_listening.set()
        if self._starting is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        if self._unlisten is not None:
            self._unlisten()
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        grace = self.settings.jobs_shutdown_grace
        if self._listener is not None:
            # Bounded even if the listener's cancelled read never returns (core.shutdown).
            await end_task(
                self._listener, finish_within=grace + 5, cancel_within=LISTENER_CANCEL_SECONDS
            )
        running = [r.task for r in self._running.values() if r.task is not None]
        if running and self._listener is None:
            await asyncio.wait(running, timeout=grace)
        # Past the grace: stop the handlers still running; each hands its job back.
        for entry in list(self._running.values()):
            if entry.task is not None and not entry.task.done() and entry.in_handler:
                entry.stop_reason = "shutdown"
                entry.task.cancel()
        left = [r.task for r in self._running.values() if r.task is not None]
        if left:
            await asyncio.wait(left, timeout=10)
        # Deliveries still waiting for a free slot see `_stopping` and return unacked.
        if self._deliveries:
            await asyncio.wait(list(self._deliveries), timeout=5)
        stuck = list(self._deliveries)
        for delivery in stuck:
            delivery.cancel()
        if stuck:
            # Let each cancelled delivery end its unit of work (close its session) before the
            # app disposes of the engine: a connection still checked out then is never closed.
            await asyncio.wait(stuck, timeout=5)
        # Closing the broker's connections is bounded the same way (a failure is no matter:
        # the process is stopping).
        closing = asyncio.create_task(self.broker.shutdown(), name="jobs_broker_shutdown")
        await end_task(closing, finish_within=LISTENER_CANCEL_SECONDS, cancel_within=1.0)
        self.started = False
        log.info("jobs_stopped", owner=self.owner)

    # --- receiving ---------------------------------------------------------------------

    def _message_handler(self) -> Any:
        runtime = self

        async def run_job(job_id: str, context: Context = TaskiqDepends()) -> None:
            task = asyncio.current_task()
            assert task is not None
            runtime._deliveries.add(task)
            try:
                await runtime._deliver(job_id, context)
            finally:
                runtime._deliveries.discard(task)

        return run_job

    async def _deliver(self, raw_id: str, context: Context) -> None:
        async def ack() -> None:
            if context.is_ackable:
                with contextlib.suppress(Exception):
                    await context.ack()

        try:
            job_id = uuid.UUID(raw_id)
        except ValueError:
            await ack()
            return
        if self._stopping:
            await self._unsend(job_id)
            return  # not acked: another worker gets it
        async with self._slots:
            if self._stopping:
                await self._unsend(job_id)
                return
            try:
                async with self.engine_work() as db:
                    job = await store.claim(
                        db, job_id, owner=self.owner, lease=self.settings.jobs_lease_seconds
                    )
            except Exception:
                log.exception("job_claim_failed", job_id=raw_id)
                return  # not acked: redelivered, or sent again by the scheduler
            if job is None:
                await ack()  # running elsewhere under a lease, finished, or not due
                return
            entry = _Running(store.JobRef(job.id, job.user_id), job.kind)
            entry.task = asyncio.create_task(self._execute(job, entry))
            self._running[job.id] = entry
            try:
                handed_back = await asyncio.shield(entry.task)
            except asyncio.CancelledError:
                handed_back = True  # this delivery was cancelled at shutdown
            finally:
                if entry.task.done():
                    self._running.pop(job.id, None)
            if not handed_back:
                await ack()

    async def _unsend(self, job_id: uuid.UUID) -> None:
        """A message this stopping process will not run: marked unsent, so that a running
        scheduler sends it again now rather than after JOBS_REDISPATCH_SECONDS."""
        with contextlib.suppress(Exception):
            async with self.engine_work() as db:
                await store.unsend(db, job_id)

    async def _execute(self, job: Job, entry: _Running) -> bool:
        """Run the handler and store its outcome; True when handed back (not to ack)."""
        bound = log.bind(job_id=str(job.id), kind=job.kind, attempt=job.attempts)
        kind = self.kinds.get(job.kind)
        started = time.monotonic()
        waited = (utcnow() - max(job.run_at, job.created_at)).total_seconds()
        metrics.observe_job_started(job.kind, max(0.0, waited))
        bound.info("job_started", waited_s=round(waited, 3))
        context = RunningContext(self, job.id, job.user_id, job.attempts)
        error: str | None = None
        retry_at: datetime | None = None
        result: Any = None
        try:
            if kind is None:
                raise JobFailed(f"unknown job kind {job.kind!r}")
            args = _validate(kind, job.args)
            result = _jsonable(await kind.run(context, args))
        except (asyncio.CancelledError, _Stop):
            entry.in_handler = False
            if entry.stop_reason == "shutdown":
                async with self.engine_work() as db:
                    await store.hand_back(db, entry.job, self.owner)
                bound.info("job_handed_back")
                metrics.count_job_finished(job.kind, "handed_back")
                return True
            bound.info("job_canceled")
            metrics.count_job_finished(job.kind, "canceled")
            return False
        except JobFailed as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts < job.max_attempts:
                delay = store.backoff(
                    job.attempts,
                    self.settings.jobs_retry_base_seconds,
                    self.settings.jobs_retry_max_seconds,
                )
                retry_at = utcnow() + timedelta(seconds=delay)
            bound.warning("job_error", error=error, retry_in_s=retry_at and delay, exc_info=True)
        entry.in_handler = False
        elapsed = round(time.monotonic() - started, 3)
        secret = kind is not None and kind.secret_args
        try:
            async with self.engine_work() as db:
                if error is None:
                    mine = await store.succeed(db, entry.job, self.owner, result, clear_args=secret)
                    status = "succeeded" if mine else "lost"  # canceled meanwhile
                else:
                    failed = await store.fail(
                        db, entry.job, self.owner, error, retry_at=retry_at, clear_args=secret
                    )
                    status = failed or "lost"
        except Exception:
            bound.exception("job_store_failed")
            return True  # not acked: the lease expires and it runs again
        bound.info("job_finished", status=status, seconds=elapsed, error=error)
        metrics.count_job_finished(job.kind, "retrying" if status == "queued" else status)
        return False

    def _on_changes(self, changes: Sequence[Change]) -> None:
        """A job running here was canceled (on any instance): stop it now."""
        for change in changes:
            if change.table != store.TABLE or change.data.get("status") != "canceled":
                continue
            self._stop(change.row_id, "canceled")

    def _stop(self, job_id: uuid.UUID, reason: str) -> None:
        entry = self._running.get(job_id)
        if entry is not None and entry.task is not None and entry.in_handler:
            entry.stop_reason = entry.stop_reason or reason
            entry.task.cancel()

    # --- the loops ---------------------------------------------------------------------

    async def _lease_loop(self) -> None:
        """Renew this process's leases; a job that is no longer ours stops."""
        interval = self.settings.jobs_lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            ids = list(self._running)
            if not ids:
                continue
            try:
                async with self.engine_work() as db:
                    ours = await store.renew(db, ids, self.owner, self.settings.jobs_lease_seconds)
            except Exception:
                log.exception("job_lease_renewal_failed")
                continue
            for job_id in ids:
                if job_id not in ours:
                    self._stop(job_id, "canceled")

    async def _scheduler_loop(self) -> None:
        last = utcnow()
        while True:
            now = utcnow()
            try:
                await self.tick(last, now)
            except Exception:
                log.exception("jobs_scheduler_failed")
            last = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop_event.wait(), timeout=self.settings.jobs_poll_seconds
                )
            if self._stop_event.is_set():
                return

    async def tick(self, last: datetime, now: datetime) -> None:
        """One pass: schedules' periods that began in (last, now], expired leases, due jobs
        to send, the backlog's counts."""
        await self._enqueue_schedules(last, now)
        async with self.engine_work(write=False) as db:
            waiting = await store.engine_work_waiting(
                db, redispatch_after=self.settings.jobs_redispatch_seconds
            )
        if waiting:
            async with self.engine_work() as db:
                await store.expire_leases(db)
            await self._send_due()
        if self._backlog_wanted():
            await self._count_backlog()

    async def _enqueue_schedules(self, last: datetime, now: datetime) -> None:
        periods: list[tuple[str, str, dict[str, Any], datetime]] = []
        for schedule in self.kinds.schedules():
            expression = schedule.cron(self.settings)
            if not expression:
                continue
            try:
                fire_times = CronSim(expression, last)
                for _ in range(10):  # a long pause: the latest periods, not a flood
                    fire = next(fire_times)
                    if fire > now:
                        break
                    periods.append((schedule.name, schedule.kind, dict(schedule.args), fire))
            except (CronSimError, StopIteration, ValueError):
                log.warning("job_schedule_invalid", schedule=schedule.name, cron=expression)
        if not periods:
            return
        async with unit_of_work(self.sessionmaker, write=True, bus=self.bus) as db:
            for name, kind, args, fire in periods:
                key = f"schedule:{name}:{fire.isoformat()}"
                await store.enqueue(db, kind, args, user_id=None, run_at=fire, key=key)

    async def _send_due(self, *, everything: bool = False) -> None:
        async with self.engine_work() as db:
            due = await store.take_due(
                db,
                redispatch_after=self.settings.jobs_redispatch_seconds,
                everything=everything,
            )
        if due:
            await self.dispatch(due)

    async def _count_backlog(self) -> None:
        from sqlalchemy import func, select

        async with self.engine_work(write=False) as db:
            rows = await db.execute(
                select(Job.kind, Job.status, func.count())
                .where(Job.status.in_(["queued", "running"]))
                .group_by(Job.kind, Job.status)
            )
            self._backlog = {(kind, status): count for kind, status, count in rows.all()}


class _EngineWork:
    """A unit of work of the engine's own: system scope on `jobs`, changes published."""

    def __init__(self, runtime: JobsRuntime, *, write: bool) -> None:
        self._work = unit_of_work(runtime.sessionmaker, write=write, bus=runtime.bus)

    async def __aenter__(self) -> AsyncSession:
        db = await self._work.__aenter__()
        await store.engine_scope(db)
        return db

    async def __aexit__(self, *exc: Any) -> None:
        await self._work.__aexit__(*exc)


def _validate(kind: JobKind[Any], args: Any) -> BaseModel:
    try:
        validated: BaseModel = kind.args.model_validate(args)
    except ValidationError as exc:
        raise JobFailed(f"invalid arguments: {exc.errors(include_url=False)}") from exc
    return validated


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if value is None:
        return None
    from pydantic import TypeAdapter

    return TypeAdapter(Any).dump_python(value, mode="json")
