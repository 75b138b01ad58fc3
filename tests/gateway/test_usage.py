"""`GET /api/usage`: the signed-in user's gateway usage, by model and by key, in a range."""

from __future__ import annotations

from datetime import timedelta

from everything_app.core import rls
from everything_app.core.db import utcnow
from everything_app.gateway.models import AiUsage
from everything_app.testing import Reply

from .conftest import Gateway, complete, stream

HELLO = [{"role": "user", "content": "hello there"}]  # 2 input tokens


async def test_usage_by_model_and_by_key(gateway: Gateway) -> None:
    session = await gateway.sign_up()
    laptop = await gateway.new_key(session, "laptop")
    server = await gateway.new_key(session, "server")
    gateway.script.push(Reply("a b c"), Reply("d e"), Reply("f"))
    for key, model in ((laptop, "gpt-4o"), (laptop, "gpt-4o-mini"), (server, "gpt-4o")):
        await complete(gateway.client(key["key"]), model=model, messages=HELLO)
    await complete(gateway.client(key["key"]), model="offline", messages=HELLO)
    await gateway.inflight.wait_idle()

    response = await gateway.http.get("/api/usage", headers=session)

    assert response.status_code == 200
    report = response.json()
    offline_out = report["by_model"][2]["output_tokens"]
    assert report["totals"] == {
        "requests": 4,
        "input_tokens": 8,
        "output_tokens": 6 + offline_out,
        "total_tokens": 14 + offline_out,
    }
    assert [(m["model"], m["requests"], m["output_tokens"]) for m in report["by_model"]] == [
        ("gpt-4o", 2, 4),
        ("gpt-4o-mini", 1, 2),
        ("offline", 1, offline_out),
    ]
    by_key = {k["name"]: k for k in report["by_key"]}
    assert set(by_key) == {"laptop", "server"}
    assert by_key["laptop"]["api_key_id"] == laptop["id"]
    assert by_key["laptop"]["prefix"] == laptop["prefix"]
    assert (by_key["laptop"]["requests"], by_key["laptop"]["output_tokens"]) == (2, 5)
    assert by_key["server"]["requests"] == 2


async def test_an_answer_received_is_already_in_the_usage(gateway: Gateway) -> None:
    # No waiting for the gateway to go idle: a client that holds the whole answer (JSON or
    # streamed to [DONE]) reads its usage at once, as a dashboard's "Refresh" does.
    session = await gateway.sign_up()
    key = await gateway.new_key(session)
    gateway.script.push(Reply("a b c"), Reply("d e"))
    await complete(gateway.client(key["key"]), model="gpt-4o", messages=HELLO)
    first = (await gateway.http.get("/api/usage", headers=session)).json()
    await stream(gateway.client(key["key"]), model="gpt-4o", messages=HELLO)
    second = (await gateway.http.get("/api/usage", headers=session)).json()

    assert (first["totals"]["requests"], first["totals"]["output_tokens"]) == (1, 3)
    assert second["totals"]["requests"] == 2


async def test_usage_is_private_and_filtered_by_range(gateway: Gateway) -> None:
    mine = await gateway.sign_up()
    key = await gateway.new_key(mine)
    await complete(gateway.client(key["key"]), model="gpt-4o", messages=HELLO)
    # An old row: outside the default 30 days, inside an explicit range.
    [row] = await gateway.usage_rows()
    async with gateway.app.state.sessionmaker() as db:
        await rls.act_as_system(db, tables=["ai_usage"], reason="test")
        db.add(
            AiUsage(
                user_id=row.user_id,
                api_key_id=None,
                model="gpt-4o",
                input_tokens=100,
                output_tokens=50,
                created_at=utcnow() - timedelta(days=90),
            )
        )
        await db.commit()
    someone_else = await gateway.sign_up()

    recent = (await gateway.http.get("/api/usage", headers=mine)).json()
    old = await gateway.http.get(
        "/api/usage",
        params={
            "start": (utcnow() - timedelta(days=100)).isoformat(),
            "end": (utcnow() - timedelta(days=80)).isoformat(),
        },
        headers=mine,
    )
    theirs = (await gateway.http.get("/api/usage", headers=someone_else)).json()
    backwards = await gateway.http.get(
        "/api/usage",
        params={"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        headers=mine,
    )
    anonymous = await gateway.http.get("/api/usage")

    assert recent["totals"]["requests"] == 1
    assert old.json()["totals"] == {
        "requests": 1,
        "input_tokens": 100,
        "output_tokens": 50,
        "total_tokens": 150,
    }
    assert old.json()["by_key"][0]["api_key_id"] is None
    assert theirs["totals"]["requests"] == 0
    assert theirs["by_model"] == []
    assert theirs["by_key"] == []
    assert backwards.status_code == 400
    assert backwards.json()["error"]["code"] == "invalid_range"
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"  # our shape outside /v1
