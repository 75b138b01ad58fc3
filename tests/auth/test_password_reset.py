"""Password reset by mail (better-auth's endpoints): the link arrives over SMTP, leads back
with the token, sets the password once, and signs every device out. Abuse: unknown emails
get the same answer, used/expired/foreign tokens fail, floods are limited, redirects go to
trusted origins only."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from everything_app.core.changes import Change
from everything_app.core.clock import current_time
from everything_app.core.db import utcnow
from tests.conftest import PASSWORD, AppWith, Running, sign_up, unique_email
from tests.mail.smtp_server import SmtpServer, bodies
from tests.mail_jobs import QueuedMail, queued_mail  # noqa: F401 - a fixture

NEW_PASSWORD = "a brand new passphrase"
RESET_ANSWER = {
    "status": True,
    "message": "If this email exists in our system, check your email for the reset link",
}
TRUSTED = "http://app.example"


async def _app(app_with: AppWith, smtp: SmtpServer, **settings: object) -> Running:
    return await app_with(
        smtp_url=smtp.url, trusted_origins=TRUSTED, jobs_in_serve=False, **settings
    )


def _link(text: str) -> str:
    found = re.search(r"https?://\S+", text)
    assert found is not None
    return found.group(0)


async def _mailed_link(running: Running, mail: QueuedMail, smtp: SmtpServer, count: int) -> str:
    await mail.run(running.app)
    got = await smtp.wait_for(count)
    return _link(bodies(got[-1].message)[0])


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def _request(client: httpx.AsyncClient, email: str, **extra: object) -> httpx.Response:
    return await client.post("/api/auth/request-password-reset", json={"email": email, **extra})


async def test_the_whole_reset_flow(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    browser, other_device = running.client(), running.client()
    email = unique_email()
    user = (await sign_up(browser, email))["user"]
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    signed_in = await other_device.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    ended: list[Change] = []
    running.app.state.changes.listen(lambda changes: ended.extend(changes))

    anonymous = running.client()
    response = await _request(anonymous, email, redirectTo=f"{TRUSTED}/reset?step=2")
    assert response.status_code == 200
    assert response.json() == RESET_ANSWER
    await queued_mail.collect(running.app)
    [job] = queued_mail.jobs
    assert job.user_id == uuid.UUID(user["id"])

    link = await _mailed_link(running, queued_mail, smtp, 1)
    assert link.startswith("http://testserver/api/auth/reset-password/")
    assert parse_qs(urlsplit(link).query)["callbackURL"] == [f"{TRUSTED}/reset?step=2"]
    [received] = smtp.received
    assert received.rcpt_tos == [email]
    assert _link(bodies(received.message)[1].replace('"', " ")) == link  # HTML has it too

    opened = await anonymous.get(_path(link))
    assert opened.status_code == 302
    location = opened.headers["location"]
    assert location.startswith(f"{TRUSTED}/reset?step=2&token=")
    token = parse_qs(urlsplit(location).query)["token"][0]

    reset = await anonymous.post(
        "/api/auth/reset-password", json={"newPassword": NEW_PASSWORD, "token": token}
    )
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"status": True}

    # Every session ended, announced on the change bus (live sockets close on these).
    for client in (browser, other_device):
        assert (await client.get("/api/auth/get-session")).json() is None
    sessions_ended = [c for c in ended if c.table == "sessions" and c.op == "delete"]
    assert len(sessions_ended) == 2
    assert all(c.owner_id == uuid.UUID(user["id"]) for c in sessions_ended)

    old = await anonymous.post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await anonymous.post(
        "/api/auth/sign-in/email", json={"email": email, "password": NEW_PASSWORD}
    )
    assert new.status_code == 200

    # Single use: the token and its link are dead now.
    again = await anonymous.post(
        "/api/auth/reset-password", json={"newPassword": "yet another one!", "token": token}
    )
    assert again.status_code == 400
    assert again.json() == {"code": "INVALID_TOKEN", "message": "Invalid token"}
    reopened = await anonymous.get(_path(link))
    assert reopened.headers["location"] == f"{TRUSTED}/reset?step=2&error=INVALID_TOKEN"


async def test_the_older_forget_password_route_and_a_relative_redirect(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    email = unique_email()
    await sign_up(client, email)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    response = await client.post(
        "/api/auth/forget-password", json={"email": email, "redirectTo": "/reset"}
    )
    assert response.json() == RESET_ANSWER
    link = await _mailed_link(running, queued_mail, smtp, 1)
    opened = await client.get(_path(link))
    assert opened.headers["location"].startswith("http://testserver/reset?token=")


async def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    known = unique_email()
    await sign_up(client, known)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    unknown = await _request(client, unique_email("nobody"))
    existing = await _request(client, known)
    assert (unknown.status_code, unknown.json()) == (existing.status_code, existing.json())
    assert unknown.headers.keys() - {"x-request-id"} == existing.headers.keys() - {"x-request-id"}
    await queued_mail.collect(running.app)
    assert [job.args.to for job in queued_mail.jobs] == [known]


async def test_an_expired_token_is_refused(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp, password_reset_token_seconds=600)
    client = running.client()
    email = unique_email()
    await sign_up(client, email)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    await _request(client, email, redirectTo=TRUSTED)
    link = await _mailed_link(running, queued_mail, smtp, 1)
    token = urlsplit(link).path.rsplit("/", 1)[1]

    later = utcnow() + timedelta(seconds=601)

    async def _later() -> datetime:
        return later

    running.app.dependency_overrides[current_time] = _later
    opened = await client.get(_path(link))
    assert opened.headers["location"] == f"{TRUSTED}/?error=INVALID_TOKEN"
    reset = await client.post(
        "/api/auth/reset-password", json={"newPassword": NEW_PASSWORD, "token": token}
    )
    assert reset.json()["code"] == "INVALID_TOKEN"
    running.app.dependency_overrides.pop(current_time)
    # Refused for its age only: a moment earlier it works.
    ok = await client.post(
        "/api/auth/reset-password", json={"newPassword": NEW_PASSWORD, "token": token}
    )
    assert ok.status_code == 200


async def test_a_token_resets_only_its_own_account(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(app_with, smtp)
    alice, mallory = running.client(), running.client()
    alice_email, mallory_email = unique_email("alice"), unique_email("mallory")
    await sign_up(alice, alice_email)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    await sign_up(mallory, mallory_email)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    await _request(mallory, mallory_email)
    link = await _mailed_link(running, queued_mail, smtp, 1)
    token = urlsplit(link).path.rsplit("/", 1)[1]
    # Mallory's token, used while signed in as... anyone: it resets Mallory's password only.
    await alice.post("/api/auth/reset-password", json={"newPassword": NEW_PASSWORD, "token": token})
    assert (await alice.get("/api/auth/get-session")).json() is not None  # Alice untouched
    login = await running.client().post(
        "/api/auth/sign-in/email", json={"email": alice_email, "password": PASSWORD}
    )
    assert login.status_code == 200
    # Made-up and truncated tokens are refused the same way.
    for bad in ("x" * 43, token[:-1], "", "../../etc"):
        response = await alice.post(
            "/api/auth/reset-password", json={"newPassword": NEW_PASSWORD, "token": bad}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "INVALID_TOKEN"


async def test_a_short_password_is_refused_before_the_token(
    app_with: AppWith, smtp: SmtpServer
) -> None:
    running = await _app(app_with, smtp)
    response = await running.client().post(
        "/api/auth/reset-password", json={"newPassword": "short", "token": "whatever"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "PASSWORD_TOO_SHORT"


async def test_a_flood_of_reset_requests_is_limited_per_email_and_per_ip(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
) -> None:
    running = await _app(
        app_with,
        smtp,
        rate_limit_account_mail_email="3/hour",
        rate_limit_account_mail_ip="6/hour",
    )
    client = running.client()
    email = unique_email()
    await sign_up(client, email)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    codes = [(await _request(client, email)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    await queued_mail.collect(running.app)
    assert len(queued_mail.jobs) == 3
    # The same limit for an address without an account: the 429 tells nothing.
    codes = [(await _request(client, unique_email("nobody"))).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the IP's 6 are used up now
    limited = await _request(client, unique_email("nobody"))
    assert limited.status_code == 429
    assert "retry-after" in limited.headers


OPEN_REDIRECTS: Sequence[str] = (
    "https://evil.example/",
    "//evil.example/reset",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "http://app.example@evil.example/",
    "http://user:pw@app.example/",
    "data:text/html,hi",
)


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
async def test_open_redirects_are_refused(
    app_with: AppWith,
    smtp: SmtpServer,
    queued_mail: QueuedMail,  # noqa: F811
    target: str,
) -> None:
    running = await _app(app_with, smtp)
    client = running.client()
    email = unique_email()
    await sign_up(client, email)
    queued_mail.jobs.clear()  # the verification mail sign-up sent
    refused = await _request(client, email, redirectTo=target)
    assert refused.status_code == 403
    assert refused.json()["code"] == "INVALID_CALLBACK_URL"
    await queued_mail.collect(running.app)
    assert queued_mail.jobs == []
    # The emailed link's own callbackURL is checked too: never followed.
    await _request(client, email, redirectTo=TRUSTED)
    link = await _mailed_link(running, queued_mail, smtp, 1)
    token = urlsplit(link).path.rsplit("/", 1)[1]
    opened = await client.get(f"/api/auth/reset-password/{token}", params={"callbackURL": target})
    assert opened.status_code == 403
    assert "location" not in opened.headers
