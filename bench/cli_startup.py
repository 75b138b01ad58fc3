"""How long each `everything-app` command takes to start and finish, on SQLite in a temp
directory: the median (and spread) of several runs of a fresh process each, as a user pays it.
`serve` is timed until `/healthz` answers. Prints figures; asserts nothing.

    .venv/bin/python bench/cli_startup.py [--runs 5] [--importtime]

`--importtime` also prints the slowest imports of `--help` and `migrate` (`python -X
importtime`), to see what a command loads.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CLI = [sys.executable, "-m", "everything_app"]


def timed(args: list[str], env: dict[str, str], stdin: str = "") -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-500:]}")
    return elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def timed_serve(env: dict[str, str]) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                if process.poll() is not None:
                    raise SystemExit("serve exited before answering") from None
                time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(timeout=30)


def slowest_imports(args: list[str], env: dict[str, str], top: int = 12) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "everything_app", *args],
        capture_output=True, text=True, env=env, input="admin password 1\n", check=False,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.rstrip()))
    return [f"{us / 1000:8.1f} ms {name}" for us, name in sorted(rows, reverse=True)[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATA_DIR": str(Path(tmp) / "data"), "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        timed(["migrate"], env)  # the database exists from here on
        backup = str(Path(tmp) / "b.dump")
        commands: dict[str, tuple[list[str], str]] = {
            "--help": (["--help"], ""),
            "migrate": (["migrate"], ""),
            "create-admin": (["create-admin", "root@example.com"], "admin password 1\n"),
            "backup": (["backup", backup, "--force"], ""),
            "restore": (["restore", backup, "--yes"], ""),
        }
        print(f"{'command':<14} {'median':>8} {'min':>8} {'max':>8}   ({options.runs} runs)")
        for name, (args, stdin) in commands.items():
            runs = [timed(args, env, stdin) for _ in range(options.runs)]
            report(name, runs)
        report("serve→ready", [timed_serve(env) for _ in range(options.runs)])
        if options.importtime:
            for args in (["--help"], ["migrate"]):
                print(f"\nslowest imports of {' '.join(args)} (cumulative):")
                print("\n".join(slowest_imports(args, env)))


def report(name: str, runs: list[float]) -> None:
    print(f"{name:<14} {statistics.median(runs):7.2f}s {min(runs):7.2f}s {max(runs):7.2f}s")


if __name__ == "__main__":
    main()
