"""GET /metrics: counters by route template, rate-limit rejections, tokens, live gauges, the
optional bearer token, and Sentry's scrubbing.

The counters are process-wide (as in production), so every test compares before and after.
"""

from __future__ import annotations

import asyncio
import gc
import re
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from fastapi import FastAPI

from everything_app.core.observability import scrub_event
from tests.conftest import PASSWORD, AppWith, SignedIn, make_settings, unique_email
from tests.realtime.support import live, new_user, start_instance

Labels = dict[str, str]


def sample(app: FastAPI, name: str, labels: Labels | None = None) -> float:
    value = app.state.metrics.get_sample_value(name, labels or {})
    return float(value or 0.0)


def requests_of(app: FastAPI, route: str, status: int, method: str = "GET") -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return sample(app, "everything_app_http_requests_total", labels)


def label_values(text: str) -> set[str]:
    return set(re.findall(r'="([^"]*)"', text))


async def test_requests_are_counted_by_route_template(app: FastAPI, signed_in: SignedIn) -> None:
    client = await signed_in()
    created = await client.post("/api/keys", json={"name": "metrics"})
    assert created.status_code == 201
    key_id = created.json()["id"]
    template = "/api/keys/{key_id}"
    before_ok = requests_of(app, template, 200)
    before_missing = requests_of(app, "unmatched", 404)
    before_latency = sample(
        app,
        "everything_app_http_request_duration_seconds_count",
        {"method": "GET", "route": template},
    )

    for _ in range(2):
        assert (await client.get(f"/api/keys/{key_id}")).status_code == 200
    assert (await client.get(f"/api/no-such-route/{key_id}")).status_code == 404

    assert requests_of(app, template, 200) == before_ok + 2
    assert requests_of(app, "unmatched", 404) == before_missing + 1
    latency = {"method": "GET", "route": template}
    assert (
        sample(app, "everything_app_http_request_duration_seconds_count", latency)
        == before_latency + 2
    )
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'route="/api/keys/{key_id}"' in response.text
    # No raw path, id or email ever becomes a label value.
    values = label_values(response.text)
    assert not any(key_id in value for value in values)
    assert not any("no-such-route" in value or "@" in value for value in values)


async def test_rate_limit_rejections_are_counted_by_rule(app_with: AppWith) -> None:
    running = await app_with(rate_limit_sign_in_ip="2/minute")
    app, client = running.app, running.client()
    labels = {"rule": "sign-in-ip"}
    before = sample(app, "everything_app_rate_limit_rejections_total", labels)
    email = unique_email()
    statuses = [
        (
            await client.post(
                "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
            )
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    assert sample(app, "everything_app_rate_limit_rejections_total", labels) == before + 1
    text = (await client.get("/metrics")).text
    assert email not in text
    assert 'rule="sign-in-ip"' in text


async def test_tokens_are_counted_after_a_chat_answer(app: FastAPI, signed_in: SignedIn) -> None:
    client = await signed_in()
    labels = {"source": "chat", "provider": "offline", "model": "offline"}
    before_in = sample(app, "everything_app_ai_tokens_total", {**labels, "direction": "input"})
    before_out = sample(app, "everything_app_ai_tokens_total", {**labels, "direction": "output"})

    response = await client.post("/api/chat", json={"message": "hi", "stream": False})
    assert response.status_code == 200, response.text

    assert sample(app, "everything_app_ai_tokens_total", {**labels, "direction": "input"}) > (
        before_in
    )
    assert sample(app, "everything_app_ai_tokens_total", {**labels, "direction": "output"}) > (
        before_out
    )


async def test_gateway_tokens_are_counted(app: FastAPI, signed_in: SignedIn) -> None:
    client = await signed_in()
    key = (await client.post("/api/keys", json={"name": "gw"})).json()["key"]
    labels = {"source": "gateway", "provider": "offline", "model": "offline"}
    name = "everything_app_ai_tokens_total"
    before = sample(app, name, {**labels, "direction": "output"})

    response = await client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "offline", "messages": [{"role": "user", "content": "hello"}]},
    )
    assert response.status_code == 200, response.text

    # Usage is recorded as the answer ends, which may be just after the response.
    for _ in range(50):
        if sample(app, name, {**labels, "direction": "output"}) > before:
            break
        await asyncio.sleep(0.02)
    assert sample(app, name, {**labels, "direction": "output"}) > before


async def test_live_gauges_are_read_at_scrape_time(app: FastAPI, client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    assert "everything_app_chat_streams_active 0.0" in text
    assert 'everything_app_realtime_connections{transport="websocket"} 0.0' in text
    assert "everything_app_db_pool_size" in text
    assert "everything_app_db_pool_checked_out" in text


async def test_websockets_are_counted_and_gauged(database_url: str, tmp_path: Path) -> None:
    """On a real server: the open socket is gauged, the ended one counted by its route."""
    async with AsyncExitStack() as stack:
        instance = await start_instance(stack, make_settings(database_url, tmp_path), fresh=True)
        app = instance.app
        gauge = "everything_app_realtime_connections"
        before = requests_of(app, "/api/realtime", 101, method="WS")
        user = await new_user(instance)
        async with live(instance, user=user) as client:
            assert (await client.subscribe("s", "keys.list"))["type"] == "result"
            assert sample(app, gauge, {"transport": "websocket"}) == 1
        # The socket is counted, like its access log line, when the server has closed it.
        for _ in range(100):
            if requests_of(app, "/api/realtime", 101, method="WS") > before:
                break
            await asyncio.sleep(0.02)
        assert requests_of(app, "/api/realtime", 101, method="WS") == before + 1
        assert sample(app, gauge, {"transport": "websocket"}) == 0


async def test_metrics_token_is_enforced_when_set(app_with: AppWith) -> None:
    client = (await app_with(metrics_token="scrape-" + "t" * 20)).client(origin=None)
    missing = await client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_metrics_token"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-" + "t" * 20})
    assert right.status_code == 200
    assert "everything_app_http_requests_total" in right.text


async def test_readyz_details_need_the_metrics_token_when_it_is_set(app_with: AppWith) -> None:
    """A failed backup's error names paths and hosts: with METRICS_TOKEN set, only a scraper
    holding it reads `/readyz`'s details; everyone still reads whether the instance is ready."""
    token = "scrape-" + "t" * 20
    guarded = (await app_with(metrics_token=token)).client(origin=None)
    anonymous = await guarded.get("/readyz")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ok", "database": "ok"}
    wrong = await guarded.get("/readyz", headers={"Authorization": "Bearer nope"})
    assert wrong.json() == {"status": "ok", "database": "ok"}
    operator = await guarded.get("/readyz", headers={"Authorization": f"Bearer {token}"})
    assert operator.json()["backup"] == {"status": "none"}
    open_instance = (await app_with()).client(origin=None)
    assert (await open_instance.get("/readyz")).json()["backup"] == {"status": "none"}


async def test_the_collectors_work_is_exported(client: httpx.AsyncClient) -> None:
    gc.collect()
    full = gc.get_stats()[2]["collections"]
    text = (await client.get("/metrics")).text
    name = 'python_gc_collections_total{generation="2"}'
    line = next(x for x in text.splitlines() if x.startswith(name))
    assert float(line.split()[-1]) >= full


async def test_metrics_are_documented(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/metrics"]["get"]
    assert "text/plain" in operation["responses"]["200"]["content"]


def test_sentry_events_lose_headers_cookies_bodies_and_user() -> None:
    event = {
        "request": {
            "url": "http://x/api/keys",
            "method": "POST",
            "headers": {"Authorization": "Bearer ea_secret"},
            "cookies": {"better-auth.session_token": "t"},
            "data": {"password": "hunter2"},
            "query_string": "email=a@b.c",
        },
        "user": {"email": "a@b.c", "ip_address": "10.0.0.1"},
        "message": "boom",
    }
    scrubbed = scrub_event(event, {})
    assert scrubbed["request"] == {"url": "http://x/api/keys", "method": "POST"}
    assert "user" not in scrubbed
    assert "hunter2" not in str(scrubbed)
    assert "ea_secret" not in str(scrubbed)
