"""API keys."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class KeysSettings(BaseSettings):
    api_key_prefix: str = "ea_"
    rate_limit_key_create_user: str = "20/hour"
