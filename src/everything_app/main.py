"""The ASGI app that `everything-app serve` (and any ASGI server) loads."""

from everything_app.app import create_app

app = create_app()
