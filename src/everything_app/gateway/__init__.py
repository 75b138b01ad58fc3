"""The OpenAI-compatible gateway: `/v1/chat/completions` and `/v1/models` for the user's API
keys, with usage recorded per key and per user (`/api/usage`).

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.gateway.models import AiUsage
    from everything_app.gateway.registration import feature

__all__ = ["AiUsage", "feature"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, {"AiUsage": "models", "feature": "registration"})
