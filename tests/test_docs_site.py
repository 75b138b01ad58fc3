"""The documentation site builds offline in strict mode, and says what the code does.

`mkdocs build --strict` fails on a broken link, a missing page or anchor, a page left out of
the navigation, and a snippet that is not there; the API reference page is generated from the
app's OpenAPI schema during the build (docs/hooks/openapi.py). The built pages must load
nothing from another host: no CDN, no web fonts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from everything_app.app import create_app
from everything_app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# A resource the browser fetches on its own (not a link the reader may follow).
_REMOTE_RESOURCE = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def test_the_site_builds_strict_and_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    reference = (site / "api" / "reference.html").read_text()
    assert "/api/chat/sessions" in reference  # generated from the schema, every route
    assert "/v1/chat/completions" in reference
    tour = (site / "getting-started.html").read_text()
    assert "Five-minute tour" in tour  # the README's tour, included
    remote = [
        f"{path.relative_to(site)}: {match.group(0)}"
        for path in site.rglob("*")
        if path.suffix in {".html", ".css"}
        for match in _REMOTE_RESOURCE.finditer(path.read_text())
    ]
    assert not remote, remote


def _environment_names(model: type[BaseModel]) -> set[str]:
    """Every setting's environment variable (nested settings models flattened)."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _environment_names(annotation)
        else:
            names.add(name.upper())
    return names


def test_every_setting_is_documented() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", page))
    missing = _environment_names(Settings) - documented
    assert not missing, f"settings missing from docs/configuration.md: {sorted(missing)}"


def test_the_api_description_names_no_seed(tmp_path: Path) -> None:
    # The seeds are the project's specification; API consumers cannot look them up. Their
    # mapping to features is the README's table.
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_key="x" * 32)
    text = json.dumps(create_app(settings).openapi())
    assert not re.findall(r".{0,60}\bseeds?\b(?: 0\d\d|')", text, re.IGNORECASE)
