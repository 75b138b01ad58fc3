"""scripts/build-web.sh, which serve.sh and test.sh run: builds web/ when the build is missing
or older than any file of web/, says in one line that the API runs alone without npm (a
failure with CI=true), and does nothing in a checkout without web/. Run on a copy of the
script in a scratch checkout whose web/ "build" writes a stamp (npm ci of a package with no
dependencies needs no network)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILT = Path("src/everything_app/webapp/static/index.html")

# The "build": one more line in a counter file, and an index.html (as Vite writes one).
BUILD = (
    "node -e \"const fs=require('fs');fs.appendFileSync('builds.txt','x\\n');"
    "fs.mkdirSync('../src/everything_app/webapp/static',{recursive:true});"
    "fs.mkdirSync('../src/everything_app/webapp/static/assets',{recursive:true});"
    "fs.writeFileSync('../src/everything_app/webapp/static/assets/app-1a2b.js','let a=1;');"
    "fs.writeFileSync('../src/everything_app/webapp/static/index.html','<!doctype html>')\""
)


def _checkout(tmp_path: Path, *, web: bool = True) -> Path:
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "build-web.sh", tmp_path / "scripts" / "build-web.sh")
    if web:
        package = {"name": "web", "version": "1.0.0", "private": True, "scripts": {"build": BUILD}}
        lock = {
            "name": "web",
            "version": "1.0.0",
            "lockfileVersion": 3,
            "requires": True,
            "packages": {"": {"name": "web", "version": "1.0.0"}},
        }
        (tmp_path / "web" / "src").mkdir(parents=True)
        (tmp_path / "web" / "package.json").write_text(json.dumps(package))
        (tmp_path / "web" / "package-lock.json").write_text(json.dumps(lock))
        (tmp_path / "web" / "src" / "main.tsx").write_text("export {};\n")
    return tmp_path


def _run(checkout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    environment.update(env)
    return subprocess.run(
        ["/usr/bin/env", "bash", str(checkout / "scripts" / "build-web.sh")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _builds(checkout: Path) -> int:
    counter = checkout / "web" / "builds.txt"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


@pytest.mark.slow
def test_builds_when_missing_or_stale_only(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    checkout = _checkout(tmp_path)
    first = _run(checkout)
    assert first.returncode == 0, first.stderr
    assert (checkout / BUILT).is_file()
    assert _builds(checkout) == 1
    # A gzip copy beside each text asset, for clients that accept gzip.
    script = checkout / BUILT.parent / "assets" / "app-1a2b.js"
    assert gzip.decompress(script.with_name("app-1a2b.js.gz").read_bytes()) == b"let a=1;"
    assert _run(checkout).returncode == 0
    assert _builds(checkout) == 1  # up to date: not rebuilt
    # A source file changed after the build (its mtime set ahead, no waiting).
    built_at = (checkout / BUILT).stat().st_mtime
    os.utime(checkout / "web" / "src" / "main.tsx", (built_at + 10, built_at + 10))
    assert _run(checkout).returncode == 0
    assert _builds(checkout) == 2


def _path_without_npm(tmp_path: Path) -> str:
    """A PATH holding only what the script needs besides npm."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "find", "env"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_without_npm_the_api_runs_alone(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "checkout")
    path = _path_without_npm(tmp_path)
    alone = _run(checkout, PATH=path)
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.strip().splitlines() == [
        "npm not found: the API runs without the web app "
        "(install Node.js 20+ and npm to build web/)"
    ]
    in_ci = _run(checkout, PATH=path, CI="true")
    assert in_ci.returncode == 1
    assert "CI=true" in in_ci.stderr
    assert not (checkout / BUILT).exists()


def test_a_checkout_without_web_is_left_alone(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path, web=False)
    result = _run(checkout, CI="true")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (checkout / "src").exists()
