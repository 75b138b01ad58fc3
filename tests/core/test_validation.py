"""Text the database could not store (the NUL character) is refused at the edge with 422 (400
in better-auth's shape), on both databases, and nothing is written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ClientFactory, SignedIn

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("method", "path", "body", "listing"),
    [
        ("POST", "/api/tasks", {"title": NUL}, "/api/tasks"),
        (
            "POST",
            "/api/events",
            {
                "title": "ok",
                "description": NUL,
                "start_time": "2030-01-01T10:00:00Z",
                "end_time": "2030-01-01T11:00:00Z",
            },
            "/api/events",
        ),
        ("POST", "/api/expenses", {"amount": "1.00", "category": NUL}, "/api/expenses"),
        ("POST", "/api/keys", {"name": NUL}, "/api/keys"),
        ("POST", "/api/chat", {"content": NUL, "model": "offline"}, "/api/chat/sessions"),
        ("GET", "/api/expenses", {"category": NUL}, None),
    ],
)
async def test_nul_is_refused_and_nothing_is_written(
    signed_in: SignedIn, method: str, path: str, body: dict[str, Any], listing: str | None
) -> None:
    client = await signed_in()
    if method == "GET":
        response = await client.get(path, params=body)
    else:
        response = await client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["type"] == "nul_character"
    field = next(name for name, value in body.items() if value == NUL)
    assert error["details"][0]["msg"].endswith(f": {field}")
    if listing is not None:
        assert (await client.get(listing)).json()["data"] == []


async def test_nul_in_a_nested_field_names_its_place(signed_in: SignedIn) -> None:
    client = await signed_in()
    message = {"id": "m1", "role": "user", "parts": [{"type": "text", "text": NUL}]}
    response = await client.post(
        "/api/chat", json={"id": "c1", "messages": [message], "trigger": "submit-message"}
    )
    assert response.status_code == 422
    assert "messages[0].parts[0].text" in response.json()["error"]["details"][0]["msg"]


async def test_nul_in_sign_up_is_a_better_auth_400(new_client: ClientFactory) -> None:
    client: httpx.AsyncClient = new_client()
    response = await client.post(
        "/api/auth/sign-up/email",
        json={"email": "nul@example.com", "password": "long enough password", "name": NUL},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "name" in response.json()["message"]
    signed_up = await client.post(
        "/api/auth/sign-in/email",
        json={"email": "nul@example.com", "password": "long enough password"},
    )
    assert signed_up.status_code == 401  # no account was made
