"""A stand-in for the web app's build (what `npm run build` in web/ writes), small enough to
write in a test: index.html naming a hashed script and stylesheet, and Vite's manifest.
Tests of the serving and of the browser harness use it until the real build is present."""

from __future__ import annotations

import json
from pathlib import Path

SCRIPT = "assets/app-abc123.js"
STYLE = "assets/app-abc123.css"
LAZY = "assets/chat-def456.js"
ICON = "assets/favicon-0a1b2c.svg"

INDEX_HTML = f"""\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Everything-App</title>
<script type="module" crossorigin src="/{SCRIPT}"></script>
<link rel="stylesheet" crossorigin href="/{STYLE}">
<link rel="icon" type="image/svg+xml" href="/{ICON}">
</head>
<body>
<main id="root"><h1>Everything-App</h1></main>
</body>
</html>
"""

# Renders the chat input the bench waits for, so the stand-in is a (tiny) app of its own.
SCRIPT_JS = """\
const root = document.getElementById("root");
const label = document.createElement("label");
label.textContent = "Message";
const input = document.createElement("input");
input.setAttribute("data-testid", "chat-input");
label.append(input);
root.append(label);
"""

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>'
)

STYLE_CSS = "body { font-family: sans-serif; color: #111; background: #fff; }\n"


def write_standin_build(root: Path) -> Path:
    """Write the stand-in build into `root` (made if missing) and return it."""
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / ".vite").mkdir(exist_ok=True)
    (root / "index.html").write_text(INDEX_HTML)
    (root / SCRIPT).write_text(SCRIPT_JS)
    (root / STYLE).write_text(STYLE_CSS)
    (root / LAZY).write_text("export const chat = 1;\n")
    (root / ICON).write_text(ICON_SVG)
    manifest = {
        "index.html": {
            "file": SCRIPT,
            "src": "index.html",
            "isEntry": True,
            "css": [STYLE],
            "dynamicImports": ["src/chat.tsx"],
        },
        "src/chat.tsx": {"file": LAZY, "src": "src/chat.tsx", "isDynamicEntry": True},
    }
    (root / ".vite" / "manifest.json").write_text(json.dumps(manifest))
    return root
