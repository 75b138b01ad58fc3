"""Every request is logged with its id, user and route, and no credential ever is."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import PASSWORD, ClientFactory, sign_up, unique_email


async def test_logs_hold_context_but_no_secrets(
    new_client: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email()
    client = new_client()
    signed = await sign_up(client, email=email)
    token = signed["token"]
    cookie = client.cookies.get("better-auth.session_token")
    assert cookie
    created = (await client.post("/api/keys", json={"name": "logged"})).json()
    secret = created["key"]
    script = new_client()
    await script.get("/api/keys", headers={"Authorization": f"Bearer {secret}"})
    await script.get("/api/auth/get-session", headers={"Authorization": f"Bearer {token}"})
    await new_client().post(
        "/api/auth/sign-in/email", json={"email": email, "password": "wrong " + PASSWORD}
    )
    change = await client.post(
        "/api/auth/change-password",
        json={"currentPassword": PASSWORD, "newPassword": "another secret pw"},
    )
    assert change.status_code == 200

    output = capsys.readouterr().err
    for secret_value in (PASSWORD, "another secret pw", token, secret, cookie):
        assert secret_value not in output

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert len(access) >= 6
    keys_line = next(
        line for line in access if line["route"] == "/api/keys" and line["method"] == "POST"
    )
    assert keys_line["status"] == 201
    assert keys_line["user_id"] == signed["user"]["id"]
    assert len(keys_line["request_id"]) == 32
    assert isinstance(keys_line["latency_ms"], float)


def test_redaction_of_free_text() -> None:
    from everything_app.core.logging import redact_secrets

    event = redact_secrets(
        None,
        "info",
        {
            "event": "failed with Authorization: Bearer abc.def password=hunter2",
            "password": "hunter2",
            "detail": "key ea_0123456789abcdefghij used; better-auth.session_token=xyz.sig",
        },
    )
    text = json.dumps(dict(event))
    for leaked in ("hunter2", "abc.def", "ea_0123456789abcdefghij", "xyz.sig"):
        assert leaked not in text


async def test_unauthenticated_request_logged_without_user(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await client.get("/api/keys")
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    line = next(x for x in lines if x.get("event") == "request")
    assert line["status"] == 401
    assert line["user_id"] is None


FRAGMENTS = st.sampled_from(
    ["Bearer ", "bearer\t", "ea_", "EA_", "x" * 16, "token", "TOKEN", "=", ":", "'", '"', " ",
     "session_token=", "password", "pa\u017f\u017fword", "secret", "api_key", "ap\u0131_key",
     "pa\u017f\u017fword=", "to\u212aen:", "ap\u0131_key=", "\u017f", "\u212a", "\u0130",
     "/api/tasks", "abc", "_", "-"]
)  # fmt: skip
TEXTS = st.lists(FRAGMENTS, min_size=1, max_size=6).map("".join) | st.text(max_size=10)


@settings(max_examples=1000, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(["path", "method", "Path", "x", "key"]), TEXTS))
def test_the_access_lines_shortcut_never_skips_a_redaction(fields: dict[str, str]) -> None:
    """The access line skips the redaction pass when `_may_hold_secrets` says nothing could
    change: whatever the values, that must be so."""
    from everything_app.core.logging import _may_hold_secrets, redact_secrets

    if not _may_hold_secrets(fields):
        assert redact_secrets(None, "info", dict(fields)) == fields
