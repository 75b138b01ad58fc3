from __future__ import annotations

import json
from typing import Any

import pytest

from everything_app.ai import UnknownModel, build_model_registry
from everything_app.ai.models import ModelRegistry


def registry(
    *,
    openai_api_key: str | None = None,
    openai_base_url: str | None = None,
    anthropic_api_key: str | None = None,
    models_json: str | None = None,
) -> ModelRegistry:
    return build_model_registry(
        openai_api_key=openai_api_key,
        openai_base_url=openai_base_url,
        anthropic_api_key=anthropic_api_key,
        anthropic_base_url=None,
        models_json=models_json,
    )


def ids(reg: ModelRegistry) -> list[str]:
    return [m.id for m in reg.list()]


def test_without_credentials_only_the_offline_model_exists() -> None:
    reg = registry()

    assert ids(reg) == ["offline"]
    assert reg.default.id == "offline"
    assert reg.default.provider == "offline"


def test_an_openai_key_or_base_url_adds_openai_models() -> None:
    assert ids(registry(openai_api_key="sk")) == ["gpt-4o-mini", "gpt-4o", "offline"]
    # A local OpenAI-compatible server (Ollama, vLLM) needs no key.
    local = registry(openai_base_url="http://localhost:11434/v1")
    assert ids(local) == ["gpt-4o-mini", "gpt-4o", "offline"]
    assert local.default.id == "gpt-4o-mini"


def test_an_anthropic_key_adds_claude_models() -> None:
    reg = registry(anthropic_api_key="sk-ant")

    assert ids(reg) == ["claude-sonnet-4-5", "claude-haiku-4-5", "offline"]
    assert reg.default.id == "claude-sonnet-4-5"
    assert reg.get("claude-haiku-4-5").provider == "anthropic"


def test_with_both_keys_openai_comes_first() -> None:
    reg = registry(openai_api_key="sk", anthropic_api_key="sk-ant")

    assert ids(reg) == ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "claude-haiku-4-5", "offline"]
    assert reg.default.id == "gpt-4o-mini"


def test_an_unknown_model_names_the_valid_ones() -> None:
    reg = registry(openai_api_key="sk")

    with pytest.raises(UnknownModel) as caught:
        reg.get("gpt-5-ultra")

    assert caught.value.model_id == "gpt-5-ultra"
    assert caught.value.valid_ids == ["gpt-4o-mini", "gpt-4o", "offline"]
    assert "gpt-4o-mini, gpt-4o, offline" in str(caught.value)
    assert "gpt-5-ultra" not in reg


def model(**overrides: Any) -> dict[str, Any]:
    spec = {
        "id": "llama",
        "provider": "openai",
        "upstream": "llama3.1:8b",
        "label": "Llama 3.1 8B",
        "context_window": 8192,
        "max_output_tokens": 2048,
    }
    spec.update(overrides)
    return spec


def test_ai_models_replaces_the_defaults() -> None:
    models_json = json.dumps([model(id="offline", provider="offline", upstream="offline"), model()])

    reg = registry(openai_base_url="http://localhost:11434/v1", models_json=models_json)

    assert ids(reg) == ["offline", "llama"]
    assert reg.default.id == "llama", "the first non-offline model is the default"
    assert reg.get("llama").upstream == "llama3.1:8b"


def test_blank_ai_models_means_defaults() -> None:
    assert ids(registry(models_json="  ")) == ["offline"]


@pytest.mark.parametrize(
    ("models_json", "expected"),
    [
        ("not json", "AI_MODELS is not a valid JSON list"),
        ('{"id": "x"}', "AI_MODELS is not a valid JSON list"),
        (json.dumps([model(provider="mistral")]), "0.provider"),
        (json.dumps([model(context_window=0)]), "0.context_window"),
        (
            json.dumps([{k: v for k, v in model().items() if k != "label"}]),
            "0.label: Field required",
        ),
        (json.dumps([model(colour="blue")]), "0.colour"),
        ("[]", "empty list"),
        (json.dumps([model(), model()]), "'llama' more than once"),
    ],
)
def test_bad_ai_models_is_a_clear_error(models_json: str, expected: str) -> None:
    with pytest.raises(ValueError, match="AI_MODELS") as caught:
        registry(openai_api_key="sk", models_json=models_json)

    assert expected in str(caught.value)


def test_ai_models_needs_credentials_for_its_providers() -> None:
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY is not set"):
        registry(openai_api_key="sk", models_json=json.dumps([model(provider="anthropic")]))
    with pytest.raises(ValueError, match="OPENAI_API_KEY nor OPENAI_BASE_URL"):
        registry(models_json=json.dumps([model()]))
