"""Email verification and change of email (better-auth's endpoints and token: an HS256 JWT
signed with the server secret), REQUIRE_EMAIL_VERIFICATION at sign-in, the verification
mail at sign-up."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from everything_app.core.clock import current_time
from everything_app.core.db import utcnow
from tests.conftest import PASSWORD, SECRET, AppWith, Running, sign_up, unique_email
from tests.mail.smtp_server import SmtpServer, bodies
from tests.mail_jobs import QueuedMail, queued_mail  # noqa: F401 - a fixture

TRUSTED = "http://app.example"


async def _app(app_with: AppWith, smtp: SmtpServer | None, **settings: object) -> Running:
    if smtp is not None:
        settings["smtp_url"] = smtp.url
    return await app_with(trusted_origins=TRUSTED, jobs_in_serve=False, **settings)


async def _links(running: Running, mail: QueuedMail, smtp: SmtpServer) -> list[str]:
    before = len(smtp.received)
    await mail.collect(running.app)
    count = len(mail.jobs)
    await mail.run(running.app)
    got = await smtp.wait_for(before + count)
    links = []
    for received in got[before:]:
        found = re.search(r"https?://\S+", bodies(received.message)[0])
        assert found is not None
        links.append(found.group(0))
    return links


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _claims(token: str) -> dict[str, Any]:
    header, payload, _ = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256"}
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return claims


async def _session_user(client: httpx.AsyncClient) -> dict[str, Any]:
    session = (await client.get("/api/auth/get-session")).json()
    assert session is not None
    user: dict[str, Any] = session["user"]
    return user


async def test_sign_up_mails_a_link_that_verifies_the_email(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    email = unique_email()
    user = (await sign_up(client, email, callbackURL=f"{TRUSTED}/welcome"))["user"]
    assert user["emailVerified"] is False
    [link] = await _links(running, queued_mail, smtp)
    assert smtp.received[0].message["Subject"] == "Confirm your email address for Everything-App"
    assert link.startswith("http://testserver/api/auth/verify-email?token=")
    query = parse_qs(urlsplit(link).query)
    assert query["callbackURL"] == [f"{TRUSTED}/welcome"]
    claims = _claims(query["token"][0])
    assert claims["email"] == email
    assert claims["userId"] == user["id"]
    assert claims["exp"] - claims["iat"] == 3600

    opened = await running.client().get(_path(link))
    assert opened.status_code == 302
    assert opened.headers["location"] == f"{TRUSTED}/welcome"
    assert (await _session_user(client))["emailVerified"] is True
    # Opening it again changes nothing and still leads on.
    again = await running.client().get(_path(link))
    assert again.headers["location"] == f"{TRUSTED}/welcome"


async def test_without_smtp_sign_up_sends_nothing(
    app_with: AppWith,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, None)
    await sign_up(running.client())
    assert queued_mail.jobs == []


async def test_send_verification_email_signed_out_and_signed_in(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    email = unique_email()
    await sign_up(client, email)
    queued_mail.jobs.clear()
    anonymous = running.client()
    for address in (email, unique_email("nobody")):
        response = await anonymous.post(
            "/api/auth/send-verification-email", json={"email": address}
        )
        assert (response.status_code, response.json()) == (200, {"status": True})
    await queued_mail.collect(running.app)
    assert [job.args.to for job in queued_mail.jobs] == [email]  # none to the unknown one

    mismatch = await client.post(
        "/api/auth/send-verification-email", json={"email": unique_email()}
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["code"] == "EMAIL_MISMATCH"
    [link] = await _links(running, queued_mail, smtp)
    verified = await anonymous.get(_path(link).split("&callbackURL")[0])
    assert verified.status_code == 200
    assert verified.json() == {"status": True, "user": None}
    already = await client.post("/api/auth/send-verification-email", json={"email": email})
    assert already.status_code == 400
    assert already.json()["code"] == "EMAIL_ALREADY_VERIFIED"


async def test_expired_forged_and_foreign_tokens_are_refused(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp, email_verification_token_seconds=600)
    client = running.client()
    email = unique_email()
    user = (await sign_up(client, email))["user"]
    [link] = await _links(running, queued_mail, smtp)
    token = parse_qs(urlsplit(link).query)["token"][0]

    later = utcnow() + timedelta(seconds=601)

    async def _later() -> datetime:
        return later

    running.app.dependency_overrides[current_time] = _later
    expired = await client.get(
        "/api/auth/verify-email", params={"token": token, "callbackURL": f"{TRUSTED}/done"}
    )
    assert expired.headers["location"] == f"{TRUSTED}/done?error=TOKEN_EXPIRED"
    as_json = await client.get("/api/auth/verify-email", params={"token": token})
    assert as_json.status_code == 401
    assert as_json.json()["code"] == "TOKEN_EXPIRED"
    running.app.dependency_overrides.pop(current_time)

    now = int(time.time())

    def signed(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
        payload = {"iat": now, "exp": now + 600, **claims}
        return jwt.encode({"alg": alg}, payload, OctKey.import_key(secret.encode()))

    other = unique_email("other")
    other_user = (await sign_up(running.client(), other))["user"]
    forged = [
        signed({"email": email}, secret="another-secret-" + "y" * 40),  # not our secret
        signed({"email": email, "userId": other_user["id"]}),  # another user's id
        signed({"email": email, "exp": now - 1}),  # expired
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered signature
        "not-a-jwt",
        # `none`: no signature at all
        base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
        + "."
        + base64.urlsafe_b64encode(json.dumps({"email": email, "exp": now + 600}).encode())
        .decode()
        .rstrip("=")
        + ".",
    ]
    for bad in forged:
        response = await client.get(
            "/api/auth/verify-email", params={"token": bad, "callbackURL": TRUSTED}
        )
        assert response.status_code == 302
        assert response.headers["location"].split("error=")[1] in ("INVALID_TOKEN", "TOKEN_EXPIRED")
    assert (await _session_user(client))["emailVerified"] is False
    # A token made like better-auth's, for this user, works (the format is theirs).
    good = await client.get(
        "/api/auth/verify-email", params={"token": signed({"email": email, "userId": user["id"]})}
    )
    assert good.status_code == 200
    assert (await _session_user(client))["emailVerified"] is True


async def test_require_email_verification_holds_sign_in_back(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp, require_email_verification=True)
    client = running.client()
    email = unique_email()
    signed_up = await sign_up(client, email)
    assert signed_up["token"] is None  # better-auth: no session until verified
    assert (await client.get("/api/auth/get-session")).json() is None
    queued_mail.jobs.clear()
    refused = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.json() == {"code": "EMAIL_NOT_VERIFIED", "message": "Email not verified"}
    assert "set-cookie" not in refused.headers
    [link] = await _links(running, queued_mail, smtp)  # a fresh link went out
    await client.get(_path(link))
    allowed = await client.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert allowed.status_code == 200
    # A wrong password is still the same 401, verified or not (nothing revealed).
    wrong = await running.client().post(
        "/api/auth/sign-in/email", json={"email": unique_email(), "password": PASSWORD}
    )
    assert wrong.status_code == 401


async def test_change_email_is_confirmed_from_the_new_address(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    old, new = unique_email("old"), unique_email("new")
    user = (await sign_up(client, old))["user"]
    queued_mail.jobs.clear()
    response = await client.post(
        "/api/auth/change-email", json={"newEmail": new.upper(), "callbackURL": f"{TRUSTED}/me"}
    )
    assert (response.status_code, response.json()) == (200, {"status": True})
    [link] = await _links(running, queued_mail, smtp)
    assert smtp.received[-1].rcpt_tos == [new]
    assert new in bodies(smtp.received[-1].message)[0]
    assert (await _session_user(client))["email"] == old  # nothing changed yet
    claims = _claims(parse_qs(urlsplit(link).query)["token"][0])
    assert claims["updateTo"] == new
    assert claims["requestType"] == "change-email-verification"

    opened = await running.client().get(_path(link))
    assert opened.headers["location"] == f"{TRUSTED}/me"
    changed = await _session_user(client)  # the session lives on, with the new address
    assert (changed["email"], changed["emailVerified"], changed["id"]) == (new, True, user["id"])
    # Used once: the account's email is no longer the one the token was made for.
    reused = await running.client().get(_path(link))
    assert reused.headers["location"] == f"{TRUSTED}/me?error=INVALID_TOKEN"
    login = await running.client().post(
        "/api/auth/sign-in/email", json={"email": new, "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_change_email_to_a_taken_or_the_same_address(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    mine, taken = unique_email("mine"), unique_email("taken")
    await sign_up(client, mine)
    await sign_up(running.client(), taken)
    queued_mail.jobs.clear()
    response = await client.post("/api/auth/change-email", json={"newEmail": taken})
    assert (response.status_code, response.json()) == (200, {"status": True})
    assert queued_mail.jobs == []  # nothing sent: the answer says nothing about the address
    same = await client.post("/api/auth/change-email", json={"newEmail": mine})
    assert same.status_code == 400
    assert same.json()["code"] == "EMAIL_IS_THE_SAME"
    unauthenticated = await running.client().post(
        "/api/auth/change-email", json={"newEmail": unique_email()}
    )
    assert unauthenticated.status_code == 401
    evil = await client.post(
        "/api/auth/change-email",
        json={"newEmail": unique_email(), "callbackURL": "https://evil.example"},
    )
    assert evil.status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
async def test_verification_redirects_go_to_trusted_origins_only(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
    target: str,
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    email = unique_email()
    await sign_up(client, email)
    [link] = await _links(running, queued_mail, smtp)
    token = parse_qs(urlsplit(link).query)["token"][0]
    opened = await client.get(
        "/api/auth/verify-email", params={"token": token, "callbackURL": target}
    )
    assert opened.status_code == 403
    assert "location" not in opened.headers
    assert (await _session_user(client))["emailVerified"] is False  # refused before use
    sent = await client.post(
        "/api/auth/send-verification-email", json={"email": email, "callbackURL": target}
    )
    assert sent.status_code == 403
