"""Model providers, and the OpenAI-compatible gateway in front of them."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings


class AISettings(BaseSettings):
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    ai_models: str | None = None
    ai_timeout_seconds: float = Field(default=60.0, gt=0)
    # Retries happen only before an answer's first token, with exponential backoff.
    ai_max_retries: int = Field(default=2, ge=0, le=10)
    ai_retry_base_delay: float = Field(default=0.25, ge=0)


class GatewaySettings(BaseSettings):
    # Calls to the OpenAI-compatible gateway (`/v1`), per API key (per user for sessions),
    # in the `limits` library's notation ("N per period").
    rate_limit_gateway_key: str = "60/minute"
