"""Real servers and real WebSocket clients for the realtime tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from everything_app.core.http_protocol import HTTP_PROTOCOL
from everything_app.realtime.hub import Hub
from everything_app.realtime.setup import Realtime
from everything_app.settings import Settings
from everything_app.testing import serve
from tests.conftest import BASE_URL, PASSWORD, start_app, unique_email

WAIT = 15.0  # generous: only reached when something is broken


@asynccontextmanager
async def serve_live(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a real uvicorn server with WebSockets, at a free port; yields `host:port`."""
    async with serve(
        app, ws="websockets-sansio", http=HTTP_PROTOCOL, backlog=1024, shutdown_timeout=2
    ) as url:
        yield url.removeprefix("http://")


@dataclass
class Instance:
    app: FastAPI
    host: str

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}/api/realtime"

    @property
    def realtime(self) -> Realtime:
        realtime: Realtime = self.app.state.realtime
        return realtime

    @property
    def hub(self) -> Hub:
        return self.realtime.hub

    def http(self, **headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"Origin": BASE_URL, **headers}, timeout=WAIT
        )


async def start_instance(stack: AsyncExitStack, settings: Settings, *, fresh: bool) -> Instance:
    """An app with its lifespan, on a real server. `fresh` empties the database first (only
    the first instance of a test: the others share its data)."""
    return await serve_instance(stack, await start_app(stack, settings, fresh=fresh))


async def serve_instance(stack: AsyncExitStack, app: FastAPI) -> Instance:
    """A started app on a real server, until `stack` closes."""
    return Instance(app, await stack.enter_async_context(serve_live(app)))


@dataclass
class User:
    id: uuid.UUID
    email: str
    token: str
    cookie: str  # "name=value", as a browser would send it

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def new_user(instance: Instance, email: str | None = None) -> User:
    async with instance.http() as client:
        response = await client.post(
            "/api/auth/sign-up/email",
            json={"email": email or unique_email(), "password": PASSWORD, "name": "Live"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    cookie = response.headers["set-cookie"].split(";", 1)[0]
    return User(uuid.UUID(body["user"]["id"]), body["user"]["email"], body["token"], cookie)


async def create_key(instance: Instance, user: User, name: str) -> dict[str, Any]:
    async with instance.http(**user.bearer) as client:
        response = await client.post("/api/keys", json={"name": name})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class Live:
    """A WebSocket client speaking our protocol; every wait is bounded by WAIT seconds.

    Messages a wait skipped stay in `pending` for the next wait, so the order in which two
    subscriptions' results arrive does not matter to a test.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pending: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def _read(self) -> dict[str, Any]:
        """The next message from the socket other than a heartbeat ping."""
        while True:
            message: dict[str, Any] = json.loads(await self.ws.recv())
            if message["type"] != "ping":
                return message

    async def until(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for index, message in enumerate(self.pending):
            if matches(message):
                return self.pending.pop(index)
        async with asyncio.timeout(WAIT):
            while not matches(message := await self._read()):
                self.pending.append(message)
        return message

    async def result(
        self, sub_id: str, where: Callable[[Any], bool] = lambda _data: True
    ) -> dict[str, Any]:
        """The next result of `sub_id` whose data satisfies `where`."""
        return await self.until(
            lambda m: m["type"] == "result" and m["id"] == sub_id and where(m["data"])
        )

    async def error(self, sub_id: str | None) -> dict[str, Any]:
        return await self.until(lambda m: m["type"] == "error" and m["id"] == sub_id)

    async def subscribe(self, sub_id: str, query: str, **args: Any) -> dict[str, Any]:
        """Subscribe and return the first message about it (its result, or an error)."""
        await self.send(type="subscribe", id=sub_id, query=query, args=args)
        return await self.until(lambda m: m.get("id") == sub_id)

    async def barrier(self) -> list[dict[str, Any]]:
        """Ping and wait for the pong; returns every message not yet consumed. The server
        answers in order, so whatever it had queued for this socket arrives first."""
        await self.send(type="ping")
        async with asyncio.timeout(WAIT):
            while (message := await self._read())["type"] != "pong":
                self.pending.append(message)
        unconsumed, self.pending = self.pending, []
        return unconsumed

    async def closed(self) -> tuple[int | None, str | None]:
        """Read until the server closes; the close code and reason."""
        async with asyncio.timeout(WAIT):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await self.ws.recv()
        await self.ws.wait_closed()
        received = self.ws.protocol.close_rcvd
        return (received.code, received.reason) if received else (None, None)


@asynccontextmanager
async def live(
    instance: Instance,
    *,
    user: User | None = None,
    via: str = "bearer",
    origin: str | None = BASE_URL,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    query: str = "",
    **options: Any,
) -> AsyncIterator[Live]:
    # A list, so a test may send a header twice (two Cookie headers).
    extra = list(headers.items() if isinstance(headers, dict) else headers or [])
    if user is not None and via == "bearer":
        extra.extend(user.bearer.items())
    elif user is not None and via == "cookie":
        extra.append(("Cookie", user.cookie))
    async with connect(
        instance.ws_url + query,
        origin=origin,  # type: ignore[arg-type]
        additional_headers=extra,
        proxy=None,
        open_timeout=WAIT,
        close_timeout=2,
        **options,
    ) as ws:
        yield Live(ws)


def ids(data: dict[str, Any]) -> list[str]:
    return [row["id"] for row in data["data"]]
