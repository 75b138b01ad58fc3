"""A real worker process with the tests' job kinds: what `everything-app worker` runs
(`create_app(..., run_jobs=True)` under `run_worker`), plus the tests' feature.

    python -m tests.jobs.worker_main   (settings from the environment; TEST_JOBS_CRON_GATE
                                        adds the per-second schedule writing there)
"""

from __future__ import annotations

import asyncio
import os

from everything_app.app import create_app, run_worker
from everything_app.settings import Settings
from tests.jobs.kinds import extra_feature


def main() -> None:
    settings = Settings()
    feature = extra_feature(cron_gate=os.environ.get("TEST_JOBS_CRON_GATE") or None)
    asyncio.run(run_worker(create_app(settings, features=(feature,), run_jobs=True)))


if __name__ == "__main__":
    main()
