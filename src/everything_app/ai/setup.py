"""Build the model registry and provider clients from settings (the app's lifespan owns them)."""

from __future__ import annotations

from collections.abc import Sequence

from everything_app.ai.models import ModelRegistry, build_model_registry
from everything_app.ai.providers import Providers, RetryPolicy
from everything_app.ai.providers.offline import Rule
from everything_app.settings import Settings


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


def model_registry(settings: Settings) -> ModelRegistry:
    """Raises ValueError with a clear message when AI_MODELS is malformed."""
    return build_model_registry(
        openai_api_key=_secret(settings.openai_api_key),
        openai_base_url=settings.openai_base_url,
        anthropic_api_key=_secret(settings.anthropic_api_key),
        anthropic_base_url=settings.anthropic_base_url,
        models_json=settings.ai_models,
    )


def build_providers(settings: Settings, offline_rules: Sequence[Rule] = ()) -> Providers:
    """The providers; the offline one answers with `offline_rules` (the features'
    `OfflineRules`) before its defaults."""
    return Providers(
        offline_rules=offline_rules,
        openai_api_key=_secret(settings.openai_api_key),
        openai_base_url=settings.openai_base_url,
        anthropic_api_key=_secret(settings.anthropic_api_key),
        anthropic_base_url=settings.anthropic_base_url,
        timeout=settings.ai_timeout_seconds,
        retry=RetryPolicy(
            max_retries=settings.ai_max_retries, base_delay=settings.ai_retry_base_delay
        ),
    )
