"""`everything_app.testing` is public: the example in docs/development.md, run as written."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = re.compile(
    r"tests/test_testing_kit\.py runs this very code\) -->\n```python\n(.*?)```", re.S
)


async def test_the_documented_example_runs() -> None:
    text = (ROOT / "docs" / "development.md").read_text()
    match = EXAMPLE.search(text)
    assert match, "docs/development.md lost the everything_app.testing example"
    source = match.group(1)
    ast.parse(source)
    namespace: dict[str, Any] = {}
    exec(compile(source, "docs/development.md", "exec"), namespace)  # noqa: S102 - our own docs
    await namespace["test_a_client_against_a_scripted_model"]()
