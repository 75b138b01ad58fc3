"""MkDocs hook: the API reference page, generated at build time from the app's OpenAPI schema.

The schema comes from `create_app()` itself, so the reference cannot drift from the routes.
It is made in a child process: building the app configures logging and imports every
feature, neither of which should happen inside MkDocs (its strict mode counts the warnings
its own loggers emit). essentials-openapi (the library behind neoteroi-mkdocs' `[OAD()]`
tag) turns the schema into Markdown with Material's tabs and collapsible blocks.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from openapidocs.mk.v3 import OpenAPIV3DocumentationHandler  # type: ignore[import-untyped]

PAGE = "api/reference.md"

# Settings that make the schema the same on every machine: nothing read from a `.env` or a
# data directory, no secret generated, quiet logs. The schema does not depend on the rest.
_SCHEMA = """
import json, sys, tempfile
from everything_app.app import create_app
from everything_app.settings import Settings

with tempfile.TemporaryDirectory() as data_dir:
    settings = Settings(
        _env_file=None, data_dir=data_dir, secret_key="x" * 32, log_level="ERROR", log_json=True
    )
    json.dump(create_app(settings).openapi(), sys.stdout)
"""

_INTRO = """# API reference

Every route, its parameters, bodies and answers, generated when this site is built from the
OpenAPI schema of the application itself (`create_app().openapi()`). A running server serves
the same schema at `/openapi.json` and as Swagger UI at `/docs`. The conventions shared by all
routes (errors, pagination, timestamps) are in [API conventions](index.md); each feature's page
explains its behaviour.

"""


def openapi_schema() -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", _SCHEMA], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not build the OpenAPI schema:\n{result.stderr}")
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def reference_markdown(schema: dict[str, Any]) -> str:
    markdown = OpenAPIV3DocumentationHandler(schema, style="MKDOCS").write()
    # The library's own title (the API's name and version) gives way to the page's.
    markdown = re.sub(r"^# .*$", "", markdown, count=1, flags=re.MULTILINE)
    return _INTRO + markdown


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, PAGE, content=reference_markdown(openapi_schema())))
    return files
