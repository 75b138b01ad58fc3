"""`GET /api/models`: the models this server offers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from everything_app.ai.models import ModelRegistry
from everything_app.auth import require_user
from everything_app.core.params import StrictQuery

router = APIRouter(
    prefix="/api/models", tags=["ai"], dependencies=[Depends(require_user), StrictQuery]
)


@router.get("")
async def list_models(request: Request) -> dict[str, Any]:
    """The models a chat request may name in `model`, and the default one."""
    registry: ModelRegistry = request.app.state.models
    return {
        "data": [
            {
                "id": spec.id,
                "label": spec.label,
                "provider": spec.provider,
                "context_window": spec.context_window,
                "max_output_tokens": spec.max_output_tokens,
            }
            for spec in registry.list()
        ],
        "default": registry.default.id,
        "next_cursor": None,
    }
