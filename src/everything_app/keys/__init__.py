"""API keys for calling the API (and the OpenAI-compatible gateway): create, list, revoke.
A key is verified by auth's credential resolver; this feature manages them.

Other features import only the names below (see `core.exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.keys.registration import feature
    from everything_app.keys.service import delete_ended_keys

__all__ = ["delete_ended_keys", "feature"]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__, {"feature": "registration", "delete_ended_keys": "service"}
    )
