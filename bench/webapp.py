"""The web app's weight and speed: bundle sizes (raw and gzip) of the first load and of each
route, read from Vite's manifest, with the first-load JavaScript budget (200 KB gzip) as
pass/fail; and the chat page's time to interactive on a local `serve` (SQLite), in Chromium.
Prints figures; asserts nothing (the budget line says FAIL, the exit code stays 0).

    .venv/bin/python bench/webapp.py [--build DIR] [--runs 5] [--no-tti]

First load: the entry chunk (index.html's script) with its static imports, transitively, and
their CSS. A route: a chunk loaded by a dynamic `import()` (a lazily loaded page) with its
own static imports and CSS, minus what the first load already has. Time to interactive: from
navigation start to when `[data-testid="chat-input"]` is enabled, visible and takes focus,
measured in the page (tests/js/webapp/tti.mjs), over --runs cold loads (empty HTTP cache,
signed in).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import start_server, stop_processes, wait_ready

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "src" / "everything_app" / "webapp" / "static"
TTI_SCRIPT = ROOT / "tests" / "js" / "webapp" / "tti.mjs"
FIRST_LOAD_JS_BUDGET = 200_000  # bytes of gzip: 200 KB


@dataclass(frozen=True)
class Size:
    raw: int = 0
    gzip: int = 0

    def __add__(self, other: Size) -> Size:
        return Size(self.raw + other.raw, self.gzip + other.gzip)

    def __str__(self) -> str:
        return f"{self.raw / 1000:8.1f} KB raw {self.gzip / 1000:8.1f} KB gzip"


def file_size(build: Path, name: str) -> Size:
    data = (build / name).read_bytes()
    return Size(len(data), len(gzip.compress(data, compresslevel=9, mtime=0)))


def closure(manifest: dict[str, Any], keys: Iterable[str]) -> set[str]:
    """The output files (JS and CSS) that loading the chunks `keys` fetches: each chunk's
    file, its CSS, and the same for its static imports, transitively."""
    files: set[str] = set()
    seen: set[str] = set()
    pending = list(keys)
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        chunk = manifest[key]
        files.add(chunk["file"])
        files.update(chunk.get("css", []))
        pending.extend(chunk.get("imports", []))
    return files


def total(build: Path, files: Iterable[str], suffix: str) -> Size:
    return sum((file_size(build, f) for f in files if f.endswith(suffix)), Size())


def bundle_report(build: Path) -> None:
    manifest: dict[str, Any] = json.loads((build / ".vite" / "manifest.json").read_text())
    entries = [key for key, chunk in manifest.items() if chunk.get("isEntry")]
    first = closure(manifest, entries)
    js, css = total(build, first, ".js"), total(build, first, ".css")
    print(f"first load ({len(first)} files)")
    print(f"  js  {js}")
    print(f"  css {css}")
    verdict = "pass" if js.gzip <= FIRST_LOAD_JS_BUDGET else "FAIL"
    print(
        f"  budget: first-load JS {js.gzip / 1000:.1f} KB gzip "
        f"<= {FIRST_LOAD_JS_BUDGET / 1000:.0f} KB: {verdict}"
    )
    routes = sorted(key for key, chunk in manifest.items() if chunk.get("isDynamicEntry"))
    print(f"routes (lazily loaded chunks, beyond the first load): {len(routes)}")
    for key in routes:
        extra = closure(manifest, [key]) - first
        size = total(build, extra, ".js") + total(build, extra, ".css")
        print(f"  {manifest[key].get('src', key):<48} {size} ({len(extra)} files)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def time_to_interactive(build: Path, runs: int) -> None:
    if shutil.which("node") is None or not TTI_SCRIPT.exists():
        print("time to interactive: skipped (node or tests/js is missing)")
        return
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DATA_DIR": str(Path(tmp) / "data"),
            "DATABASE_URL": "",
            "BASE_URL": base_url,
            "APP_STATIC_DIR": str(build),
            "APP_ENABLED": "true",
        }
        server = start_server(port, env)
        try:
            asyncio.run(wait_ready(f"{base_url}/readyz"))
            done = subprocess.run(
                ["node", str(TTI_SCRIPT)],
                env={**os.environ, "BASE_URL": base_url, "TTI_RUNS": str(runs)},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        finally:
            stop_processes([server])
    if done.returncode != 0:
        print(f"time to interactive: failed\n{done.stdout}{done.stderr}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ms: list[float] = result["ms"]
    print(
        f"time to interactive of {result['path']} (SQLite, cold cache, {len(ms)} loads): "
        f"p50 {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=BUILD, help="the built app")
    parser.add_argument("--runs", type=int, default=5, help="loads of the chat page")
    parser.add_argument("--no-tti", action="store_true", help="sizes only")
    options = parser.parse_args()
    build: Path = options.build.resolve()
    if not (build / ".vite" / "manifest.json").is_file():
        sys.exit(f"no build in {build}: run `bash scripts/build-web.sh` (Vite's manifest on)")
    bundle_report(build)
    if not options.no_tti:
        time_to_interactive(build, options.runs)


if __name__ == "__main__":
    main()
