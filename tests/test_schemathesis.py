"""Hostile input: Schemathesis generates requests for every operation in our OpenAPI schema
against a real server, signed in as a real user. No server error and no response that breaks
the documented schema is allowed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, make_settings, unique_email
from tests.private_services import free_port, wait_for_port

pytestmark = pytest.mark.slow  # Schemathesis against a server process

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Routes that end the session the run authenticates with, or need a socket.
EXCLUDED = "realtime|sign-out|delete-user|revoke|change-password"


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
async def test_no_server_errors_and_no_schema_violations(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "MIGRATION_DATABASE_URL": settings.migration_database_url or "",
        "DATA_DIR": str(tmp_path / "data"),
        "AUTO_MIGRATE": "false",
        "LOG_LEVEL": "WARNING",
        # Generated traffic would trip the abuse limits, which are tested elsewhere.
        "RATE_LIMIT_SIGN_IN_IP": "100000/minute",
        "RATE_LIMIT_SIGN_UP_IP": "100000/minute",
        "RATE_LIMIT_CHAT_USER": "100000/minute",
        "RATE_LIMIT_KEY_CREATE_USER": "100000/hour",
        "RATE_LIMIT_ACTIONS_USER": "100000/minute",
        "RATE_LIMIT_GATEWAY_KEY": "100000/minute",
        "CHAT_MAX_CONCURRENT_STREAMS": "1000",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "everything_app", "serve", "--port", str(port),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_for_port(port, server)  # uvicorn listens once start-up is done
        async with httpx.AsyncClient(base_url=base) as client:
            email = unique_email("fuzz")
            signed = await client.post(
                "/api/auth/sign-up/email",
                json={"email": email, "password": PASSWORD, "name": "Fuzz"},
            )
            token = signed.json()["token"]
        # An administrator, so that services (and through them reservations and queues) are
        # made and every administrator's route is reached too.
        promoted = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "everything_app", "create-admin", email],
            input=PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        assert promoted.returncode == 0, promoted.stderr
        run = await asyncio.to_thread(
            subprocess.run,
            [
                str(SCHEMATHESIS), "run", f"{base}/openapi.json",
                "-H", f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                # Valid and invalid data (wrong types, out-of-range values, edge cases), and
                # chains of calls through the schema's links (create, then read/update/delete).
                "--mode", "all",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--max-examples", "10",
                "--exclude-path-regex", EXCLUDED,
                "--no-color",
            ],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert run.returncode == 0, run.stdout[-4000:]
    assert " passed" in run.stdout
