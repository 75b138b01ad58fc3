"""Benchmark: does `POST /api/auth/request-password-reset` take longer for an email that has
an account than for one that has none? (Account enumeration by timing.)

Runs the app in-process (SQLite in a temporary directory, or PostgreSQL with
--database-url), with one account, and times requests for the known and for unknown emails,
interleaved, after a warm-up. Prints the median and p90 of each and the difference of the
medians. The request queues the same `auth.account_mail` job for every address (the lookup
happens in the job), so no difference is expected beyond noise; jobs are queued, not run.

    .venv/bin/python bench/reset_timing.py [--requests 300] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from everything_app.app import create_app
from everything_app.core import migrations
from everything_app.settings import Settings


async def main(requests: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=database_url,
            secret_key="bench-secret-" + "x" * 40,
            smtp_url="smtp://127.0.0.1:9",  # configured, never reached: jobs only queue
            rate_limit_account_mail_ip="1000000/hour",
            rate_limit_account_mail_email="1000000/hour",
            rate_limit_sign_up_ip="1000/minute",
        )
        await asyncio.to_thread(migrations.upgrade, settings)
        # Jobs are queued (the row is part of what is timed), not run: no SMTP is reached.
        app = create_app(settings, run_jobs=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
                known = "known@example.com"
                response = await c.post(
                    "/api/auth/sign-up/email",
                    json={"email": known, "password": "bench password 1", "name": "B"},
                )
                assert response.status_code == 200, response.text
                times: dict[str, list[float]] = {"known": [], "unknown": []}
                for i in range(requests + 20):
                    for kind in ("known", "unknown"):
                        email = known if kind == "known" else f"nobody-{i}@example.com"
                        started = time.perf_counter()
                        response = await c.post(
                            "/api/auth/request-password-reset", json={"email": email}
                        )
                        elapsed = time.perf_counter() - started
                        assert response.status_code == 200, response.text
                        if i >= 20:  # warm-up
                            times[kind].append(elapsed * 1000)
        backend = "PostgreSQL" if database_url else "SQLite"
        print(f"request-password-reset on {backend}, {requests} requests each")
        for kind, values in times.items():
            values.sort()
            p90 = values[int(len(values) * 0.9)]
            print(f"  {kind:8} median {statistics.median(values):6.2f} ms   p90 {p90:6.2f} ms")
        diff = statistics.median(times["known"]) - statistics.median(times["unknown"])
        print(f"  difference of the medians: {diff:+.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.database_url))
