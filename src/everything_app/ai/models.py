"""Which models this server offers, and the default one.

The list comes from `AI_MODELS` (a JSON list of `ModelSpec`s) when set; otherwise it follows
from which provider credentials are present. The offline model is always there by default, so
a fresh install answers without a key or network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

ProviderName = Literal["openai", "anthropic", "offline"]


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    """Our public id, what clients send as `model`."""
    provider: ProviderName
    upstream: str = Field(min_length=1)
    """The model name the provider knows."""
    label: str = Field(min_length=1)
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)


OFFLINE_MODEL = ModelSpec(
    id="offline",
    provider="offline",
    upstream="offline",
    label="Offline assistant (no AI provider configured)",
    context_window=8_192,
    max_output_tokens=1_024,
)
_OPENAI_DEFAULTS = (
    ModelSpec(
        id="gpt-4o-mini",
        provider="openai",
        upstream="gpt-4o-mini",
        label="GPT-4o mini",
        context_window=128_000,
        max_output_tokens=16_384,
    ),
    ModelSpec(
        id="gpt-4o",
        provider="openai",
        upstream="gpt-4o",
        label="GPT-4o",
        context_window=128_000,
        max_output_tokens=16_384,
    ),
)
_ANTHROPIC_DEFAULTS = (
    ModelSpec(
        id="claude-sonnet-4-5",
        provider="anthropic",
        upstream="claude-sonnet-4-5",
        label="Claude Sonnet 4.5",
        context_window=200_000,
        max_output_tokens=64_000,
    ),
    ModelSpec(
        id="claude-haiku-4-5",
        provider="anthropic",
        upstream="claude-haiku-4-5",
        label="Claude Haiku 4.5",
        context_window=200_000,
        max_output_tokens=64_000,
    ),
)
_MODEL_LIST = TypeAdapter(list[ModelSpec])


class UnknownModel(LookupError):
    def __init__(self, model_id: str, valid_ids: Sequence[str]) -> None:
        self.model_id = model_id
        self.valid_ids = list(valid_ids)
        super().__init__(f"Unknown model {model_id!r}. Valid models: {', '.join(self.valid_ids)}.")


class ModelRegistry:
    def __init__(self, models: Iterable[ModelSpec]) -> None:
        self._models = {m.id: m for m in models}
        if not self._models:
            raise ValueError("A model registry needs at least one model.")
        ordered = list(self._models.values())
        self.default: ModelSpec = next((m for m in ordered if m.provider != "offline"), ordered[0])

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self._models[model_id]
        except KeyError:
            raise UnknownModel(model_id, list(self._models)) from None

    def list(self) -> list[ModelSpec]:
        return list(self._models.values())

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models


def build_model_registry(
    *,
    openai_api_key: str | None,
    openai_base_url: str | None,
    anthropic_api_key: str | None,
    anthropic_base_url: str | None,
    models_json: str | None,
) -> ModelRegistry:
    """Build the registry from configuration; a `ValueError` names what is wrong.

    A base URL alone enables OpenAI, because local OpenAI-compatible servers (Ollama, vLLM,
    llama.cpp) take no key. Anthropic needs its key even behind a custom
    `anthropic_base_url`, so that URL does not change which models exist.
    """
    openai_ready = bool(openai_api_key or openai_base_url)
    anthropic_ready = bool(anthropic_api_key)
    if models_json is not None and models_json.strip():
        models = _parse_models_json(models_json)
        _check_credentials(models, openai_ready=openai_ready, anthropic_ready=anthropic_ready)
        return ModelRegistry(models)

    defaults: list[ModelSpec] = []
    if openai_ready:
        defaults.extend(_OPENAI_DEFAULTS)
    if anthropic_ready:
        defaults.extend(_ANTHROPIC_DEFAULTS)
    defaults.append(OFFLINE_MODEL)
    return ModelRegistry(defaults)


def _parse_models_json(models_json: str) -> list[ModelSpec]:
    try:
        models = _MODEL_LIST.validate_json(models_json)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(f"AI_MODELS is not a valid JSON list of models: {problems}") from None
    if not models:
        raise ValueError("AI_MODELS is an empty list; list at least one model or unset it.")
    seen: set[str] = set()
    for model in models:
        if model.id in seen:
            raise ValueError(f"AI_MODELS lists the model id {model.id!r} more than once.")
        seen.add(model.id)
    return models


def _check_credentials(
    models: Sequence[ModelSpec], *, openai_ready: bool, anthropic_ready: bool
) -> None:
    # Failing at start-up beats a 502 on every chat request to a model that cannot work.
    for model in models:
        if model.provider == "openai" and not openai_ready:
            raise ValueError(
                f"AI_MODELS lists {model.id!r} (openai) but neither OPENAI_API_KEY nor "
                "OPENAI_BASE_URL is set."
            )
        if model.provider == "anthropic" and not anthropic_ready:
            raise ValueError(
                f"AI_MODELS lists {model.id!r} (anthropic) but ANTHROPIC_API_KEY is not set."
            )
