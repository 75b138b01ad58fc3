"""The hub: live connections, their subscriptions, and re-running queries on changes.

Subscriptions with the same query, arguments and user share one `Group`: the query runs once
per group however many sockets watch it, and its result is serialised once. A change is
matched against the groups indexed under its table and owner (so a write by one user never
even considers another user's groups), then against each query's `affects` predicate. A group
runs at most once at a time; changes arriving meanwhile mark it dirty and it runs once more
afterwards, which both coalesces bursts and guarantees that the last result reflects every
change announced so far. Results go to each subscriber only when they differ from the last.

A delivery builds each distinct frame once (subscribers of one group mostly share their id
and version) and, for subscriptions made with `patch`, one list of operations from the
previous result to the new one (realtime/patch.py), sent instead of the whole result when it
is smaller. Nothing is awaited per subscriber: frames go into outboxes and each socket's
writer sends on its own; one watchdog task does every socket's heartbeat and send timeout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.core import fastjson, rls
from everything_app.core.changes import Change
from everything_app.core.db import database_unavailable, open_unit_of_work, utcnow
from everything_app.core.errors import AppError
from everything_app.core.logging import get_logger
from everything_app.realtime.connection import Connection, Subscription
from everything_app.realtime.identity import Identity, live_credentials
from everything_app.realtime.patch import diff
from everything_app.realtime.protocol import (
    CLOSE_GOING_AWAY,
    CLOSE_UNAUTHORIZED,
    PING_FRAME,
    patch_frame,
    result_frame,
    resync_frame,
)
from everything_app.realtime.registry import LiveQuery, QueryRegistry, Viewer
from everything_app.settings import Settings

log = get_logger(__name__)

GroupKey = tuple[str, str, uuid.UUID | None]
RETRY_FIRST_SECONDS = 0.25  # a query that met an unreachable database runs again after this,
RETRY_MAX_SECONDS = 5.0  # doubling up to this, until the database is back
MAX_BACKLOG = 1000  # changes waiting to be folded into a group's result; more: run the query
MAX_TOUCHED = 10_000  # row ids remembered as updated or deleted lately


@dataclass(frozen=True)
class QueryError:
    code: str
    message: str


class _Unavailable:
    """A run that met an unreachable database: keep the subscription and run again."""


UNAVAILABLE = _Unavailable()


@dataclass(eq=False)
class Group:
    key: GroupKey
    query: LiveQuery[Any]
    args: BaseModel
    viewer: Viewer
    subs: set[Subscription] = field(default_factory=set)
    data: str | None = None  # the last result, serialised
    # The last result itself, for a query with a `fold`: the base the next changes fold onto,
    # None whenever it may not reflect exactly the changes seen so far (then the query runs).
    result: Any = None
    backlog: list[Change] = field(default_factory=list)  # changes since `result`, to fold
    dirty: bool = False  # a change arrived while a run was in progress: run again
    force: bool = False  # resync: send the next result even if it did not change
    task: asyncio.Task[None] | None = None


@dataclass
class HubStats:
    runs: int = 0  # query executions
    deferred: int = 0  # executions that met an unreachable database (run again later)
    results: int = 0  # result messages queued
    changes: int = 0  # changes received
    debounced: int = 0  # runs delayed by REALTIME_DEBOUNCE_MS (changes came during a run)
    folded: int = 0  # results made from the last one and its changes, with no query run


def _forget_result(group: Group) -> None:
    group.result = None
    group.backlog = []


def _error_code(exc: AppError) -> str:
    # Clients get a small, stable set of codes; the message is the feature's own text.
    return {404: "not_found", 403: "forbidden", 400: "invalid_args", 422: "invalid_args"}.get(
        exc.status_code, "query_failed"
    )


class Hub:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: QueryRegistry,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.registry = registry
        self.stats = HubStats()
        self.connections: set[Connection] = set()
        self.groups: dict[GroupKey, Group] = {}
        # Indexes from a change to the groups it may concern.
        self._by_table: dict[str, set[Group]] = defaultdict(set)
        self._by_owner: dict[tuple[str, uuid.UUID], set[Group]] = defaultdict(set)
        self._admin_by_table: dict[str, set[Group]] = defaultdict(set)
        # Indexes from a credential to the connections it opened.
        self._by_session: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        self._by_key: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        self._by_user: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        # Database connections live queries may hold at once: query runs, and handshakes.
        self._semaphore = asyncio.Semaphore(settings.realtime_query_concurrency)
        self.handshakes = asyncio.Semaphore(settings.realtime_query_concurrency)
        self._debounce = settings.realtime_debounce_ms / 1000
        self._tasks: set[asyncio.Task[None]] = set()
        # Rows updated or deleted lately. An insert announced after one of these was
        # announced late (its row changed in between), so its data may be stale: not folded.
        self._touched: OrderedDict[uuid.UUID, None] = OrderedDict()
        self._revalidator: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._revalidator = asyncio.create_task(self._revalidate_forever())
        self._watchdog = asyncio.create_task(self._watch_forever())

    async def aclose(self) -> None:
        for conn in list(self.connections):
            conn.close(CLOSE_GOING_AWAY, "server_shutdown")
        tasks = [*self._tasks, *(t for t in (self._revalidator, self._watchdog) if t)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- connections -------------------------------------------------------------------

    def connect(self, identity: Identity, transport: str) -> Connection | str:
        """Register a connection, or say why not: this instance, or this user, has as many
        as allowed already (one user must not be able to take an instance's every socket)."""
        mine = self._by_user.get(identity.user_id, ())
        if len(mine) >= self.settings.realtime_max_connections_per_user:
            return "too_many_connections_for_user"
        if len(self.connections) >= self.settings.realtime_max_connections:
            return "too_many_connections"
        conn = Connection(identity=identity, transport=transport)
        self.connections.add(conn)
        self._by_user[identity.user_id].add(conn)
        if identity.session_id is not None:
            self._by_session[identity.session_id].add(conn)
        if identity.api_key_id is not None:
            self._by_key[identity.api_key_id].add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        for sub in list(conn.subscriptions.values()):
            self._remove(sub)
        self.connections.discard(conn)
        identity = conn.identity
        _discard(self._by_user, identity.user_id, conn)
        if identity.session_id is not None:
            _discard(self._by_session, identity.session_id, conn)
        if identity.api_key_id is not None:
            _discard(self._by_key, identity.api_key_id, conn)

    # --- subscriptions -----------------------------------------------------------------

    def subscribe(
        self,
        conn: Connection,
        sub_id: str,
        name: str,
        raw_args: dict[str, Any],
        *,
        patch: bool = False,
    ) -> None:
        """Start a subscription; its first result (or an error) arrives in the outbox."""
        if sub_id in conn.subscriptions:
            conn.send_error(sub_id, "duplicate_id", "This subscription id is already in use.")
            return
        if len(conn.subscriptions) >= self.settings.realtime_max_subscriptions:
            limit = self.settings.realtime_max_subscriptions
            conn.send_error(sub_id, "too_many_subscriptions", f"At most {limit} per connection.")
            return
        if not conn.take_token():
            conn.send_error(sub_id, "rate_limited", "Too many subscriptions too fast; slow down.")
            return
        query = self.registry.get(name)
        if query is None:
            conn.send_error(sub_id, "unknown_query", f"There is no live query named {name!r}.")
            return
        viewer = conn.identity.viewer
        if query.admin and not viewer.is_admin:
            conn.send_error(sub_id, "forbidden", "This query is for administrators.")
            return
        try:
            args = query.args.model_validate(raw_args)
        except ValidationError as exc:
            details = [
                {"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors()
            ]
            conn.send_error(sub_id, "invalid_args", "The query arguments are not valid.", details)
            return
        key: GroupKey = (name, args.model_dump_json(), None if query.admin else viewer.user_id)
        group = self.groups.get(key) or self._create_group(key, query, args, viewer)
        sub = Subscription(conn=conn, id=sub_id, group=group, patch=patch)
        group.subs.add(sub)
        conn.subscriptions[sub_id] = sub
        if group.task is not None:
            return  # the run in progress delivers to every subscriber without a result
        if group.data is not None:
            sub.version = 1
            conn.outbox.put_result(sub_id, result_frame(sub_id, 1, group.data))
            self.stats.results += 1
        else:
            self._schedule(group)

    def unsubscribe(self, conn: Connection, sub_id: str) -> None:
        sub = conn.subscriptions.get(sub_id)
        if sub is not None:
            self._remove(sub)

    def _create_group(
        self, key: GroupKey, query: LiveQuery[Any], args: BaseModel, viewer: Viewer
    ) -> Group:
        group = Group(key=key, query=query, args=args, viewer=viewer)
        self.groups[key] = group
        for table in query.tables:
            self._by_table[table].add(group)
            if query.admin:
                self._admin_by_table[table].add(group)
            else:
                self._by_owner[(table, viewer.user_id)].add(group)
        return group

    def _remove(self, sub: Subscription) -> None:
        sub.conn.subscriptions.pop(sub.id, None)
        sub.conn.outbox.drop_result(sub.id)
        group = sub.group
        group.subs.discard(sub)
        if group.subs or self.groups.get(group.key) is not group:
            return
        del self.groups[group.key]
        for table in group.query.tables:
            _discard(self._by_table, table, group)
            _discard(self._admin_by_table, table, group)
            _discard(self._by_owner, (table, group.viewer.user_id), group)

    # --- changes -----------------------------------------------------------------------

    def on_changes(self, changes: Sequence[Change]) -> None:
        """The bus listener: runs synchronously, so it only marks and schedules."""
        for change in changes:
            self.stats.changes += 1
            self._apply_credential_change(change)
            if change.op != "insert":
                self._touch(change.row_id)
            for group in self._candidates(change):
                if group.task is not None and group.dirty and group.result is None:
                    continue  # a query run is already due
                if group.query.affects(change, group.viewer, group.args):
                    if group.result is not None:
                        group.backlog.append(change)
                        if len(group.backlog) > MAX_BACKLOG:
                            _forget_result(group)  # a burst: one query is cheaper
                    self._schedule(group)

    def _touch(self, row_id: uuid.UUID) -> None:
        self._touched[row_id] = None
        self._touched.move_to_end(row_id)
        if len(self._touched) > MAX_TOUCHED:
            self._touched.popitem(last=False)

    def _candidates(self, change: Change) -> list[Group]:
        if change.owner_id is None:
            return list(self._by_table.get(change.table, ()))
        owned = self._by_owner.get((change.table, change.owner_id), set())
        admin = self._admin_by_table.get(change.table, set())
        return [*owned, *admin]

    def _apply_credential_change(self, change: Change) -> None:
        """Close sockets whose credential a committed change revoked (on any instance)."""
        if change.table == "sessions" and change.op == "delete":
            conns, reason = self._by_session.get(change.row_id, set()), "session_revoked"
        elif change.table == "api_keys" and (change.op == "delete" or change.data.get("revoked")):
            conns, reason = self._by_key.get(change.row_id, set()), "api_key_revoked"
        elif change.table == "users" and change.op == "delete":
            conns, reason = self._by_user.get(change.row_id, set()), "account_deleted"
        elif change.table == "users" and change.data.get("banned"):  # auth.admin's ban
            conns, reason = self._by_user.get(change.row_id, set()), "account_banned"
        else:
            return
        for conn in list(conns):
            conn.close(CLOSE_UNAUTHORIZED, reason)

    def resync(self, reason: str) -> None:
        """Changes may have been missed (a broker connection was lost): tell every client and
        send every subscription a fresh result, changed or not."""
        log.info("realtime_resync", reason=reason, groups=len(self.groups))
        frame = resync_frame(reason)
        for conn in list(self.connections):
            conn.send(frame)
        for group in list(self.groups.values()):
            group.force = True
            self._schedule(group)

    # --- running queries ---------------------------------------------------------------

    def _schedule(self, group: Group) -> None:
        if group.task is not None:
            group.dirty = True
            return
        task = asyncio.create_task(self._run(group))
        group.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, group: Group) -> None:
        try:
            first = True
            retry = RETRY_FIRST_SECONDS
            while group.subs:
                if self._debounce and not first:
                    # Changes came during the last run: a burst, let the rest of it land. A
                    # change after a quiet period runs at once (no delay on every write).
                    self.stats.debounced += 1
                    await asyncio.sleep(self._debounce)
                first = False
                group.dirty = False
                folded = self._fold(group)
                outcome = folded if folded is not None else await self._execute(group)
                if isinstance(outcome, _Unavailable):
                    # The database is restarting, say: subscribers keep their last result
                    # and get a fresh one once it answers (no change event would tell us).
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, RETRY_MAX_SECONDS)
                    continue
                if isinstance(outcome, QueryError):
                    self._fail(group, outcome)
                    return
                self._deliver(group, outcome)
                if not group.dirty:
                    return
        finally:
            group.task = None

    def _fold(self, group: Group) -> str | None:
        """The new result from the last one and the changes since, when the query can make
        it without the database (its `fold`, for exact changes only); None to run it."""
        changes, group.backlog = group.backlog, []
        fold, result = group.query.fold, group.result
        if fold is None or result is None or group.force or not changes:
            return None
        for change in changes:
            if not change.exact or change.row_id in self._touched:
                return None
            result = fold(result, change, group.viewer, group.args)
            if result is None:
                return None
        group.result = result
        self.stats.folded += 1
        return fastjson.dumps(result).decode()

    async def _execute(self, group: Group) -> str | QueryError | _Unavailable:
        _forget_result(group)
        async with self._semaphore:
            self.stats.runs += 1
            db = await open_unit_of_work(self.sessionmaker, write=False)
            try:
                await rls.set_current_user(db, group.viewer.user_id, admin=group.viewer.is_admin)
                data = await group.query.run(db, group.viewer, group.args)
                # A base to fold onto only if no change came while the query ran (`dirty`):
                # whether its snapshot saw those is not known.
                if group.query.fold is not None and not group.dirty:
                    group.result = data
                return fastjson.dumps(data).decode()
            except AppError as exc:
                return QueryError(_error_code(exc), exc.message)
            except Exception as exc:
                if database_unavailable(exc):
                    self.stats.deferred += 1
                    log.warning("live_query_deferred", query=group.query.name, error=repr(exc))
                    return UNAVAILABLE
                log.exception("live_query_failed", query=group.query.name)
                return QueryError("query_failed", "The query failed; subscribe again.")
            finally:
                await db.close()

    def _deliver(self, group: Group, data: str) -> None:
        previous = group.data
        changed = data != previous
        group.data = data
        force, group.force = group.force, False
        if not (changed or force):
            subs = [sub for sub in group.subs if sub.version == 0]
        else:
            subs = list(group.subs)
        ops: str | None = None
        wanted = any(sub.patch and sub.version for sub in subs)
        if wanted and changed and not force and previous is not None:
            ops = _patch_ops(previous, data)
        # Every subscriber that has this group's previous result gets the same frames: one
        # string per distinct (id, version), not one per socket.
        frames: dict[tuple[str, int], tuple[str, str | None]] = {}
        for sub in subs:
            base = sub.version
            sub.version += 1
            key = (sub.id, sub.version)
            built = frames.get(key)
            if built is None:
                full = result_frame(sub.id, sub.version, data)
                partial = patch_frame(sub.id, sub.version, ops) if ops is not None else None
                built = frames[key] = (full, partial)
            # The patch applies to the previous result, which every subscriber with a version
            # holds (a newer subscriber got it whole); a resync always sends whole results.
            sub.conn.outbox.put_result(sub.id, built[0], built[1] if sub.patch and base else None)
        self.stats.results += len(subs)

    def _fail(self, group: Group, error: QueryError) -> None:
        """An error ends the subscriptions (e.g. their chat session was deleted)."""
        for sub in list(group.subs):
            self._remove(sub)
            sub.conn.send_error(sub.id, error.code, error.message)

    # --- heartbeats and stuck sends -------------------------------------------------------

    async def _watch_forever(self) -> None:
        heartbeat = self.settings.realtime_heartbeat_seconds
        send_timeout = self.settings.realtime_send_timeout_seconds
        tick = min(1.0, heartbeat / 2, send_timeout / 4)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(tick)
            self.watch(loop.time(), heartbeat, send_timeout)

    def watch(self, now: float, heartbeat: float, send_timeout: float) -> None:
        """Close sockets whose send has been blocked for the send timeout (their client
        stopped reading), and ping sockets idle for the heartbeat interval."""
        for conn in list(self.connections):
            if conn.writer is None:
                continue  # SSE streams keep their own timers
            if conn.sending_since:
                if now - conn.sending_since >= send_timeout:
                    conn.stall()
            elif now - conn.last_sent >= heartbeat and not len(conn.outbox):
                conn.last_sent = now
                conn.send(PING_FRAME)

    # --- re-validating credentials -----------------------------------------------------

    async def _revalidate_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.realtime_revalidate_seconds)
            try:
                await self.revalidate()
            except Exception as exc:  # a database hiccup must not end the loop
                if database_unavailable(exc):  # restarting, say: the next round will do
                    log.warning("realtime_revalidate_deferred", error=repr(exc))
                else:
                    log.exception("realtime_revalidate_failed")

    async def revalidate(self) -> None:
        """Close every connection whose session or key is gone, expired or revoked, or whose
        user's role changed (admin queries depend on it)."""
        conns = list(self.connections)
        if not conns:
            return
        session_ids = {c.identity.session_id for c in conns if c.identity.session_id}
        key_ids = {c.identity.api_key_id for c in conns if c.identity.api_key_id}
        external_ids = {c.identity.external_id for c in conns if c.identity.external_id}
        db = await open_unit_of_work(self.sessionmaker, write=False)
        try:
            await rls.act_as_system(
                db,
                tables=("sessions", "api_keys", "users", "oidc_identities"),
                reason="realtime revalidation",
            )
            valid = await live_credentials(db, session_ids, key_ids, external_ids)
        finally:
            await db.close()
        now = utcnow()
        for conn in conns:
            identity = conn.identity
            credential = identity.session_id or identity.api_key_id or identity.external_id
            role = valid.get(credential) if credential else None
            if identity.expires_at is not None and identity.expires_at <= now:
                role = None  # a bearer JWT that has expired
            if role is None:
                conn.close(CLOSE_UNAUTHORIZED, "credentials_expired")
            elif role != conn.identity.role:
                conn.close(CLOSE_UNAUTHORIZED, "role_changed")


def _discard(index: dict[Any, set[Any]], key: Any, item: Any) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(item)
        if not members:
            del index[key]


def _patch_ops(previous: str, data: str) -> str | None:
    """The operations from one result to the next, as JSON, or None when the whole result
    is no bigger (a page that changed entirely) or the results do not diff."""
    ops = diff(from_json(previous), from_json(data))
    if ops is None:
        return None
    encoded = fastjson.dumps(ops).decode()
    return encoded if len(encoded) < len(data) else None
