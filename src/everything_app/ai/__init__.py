"""The LLM provider layer: models on offer, and streaming answers from them.

Other features use only the names exported here (the last few load on first use, see
`core.exports`: the settings and the HTTP routes are not imported with the package).
"""

from typing import TYPE_CHECKING

from everything_app.ai.models import (
    ModelRegistry,
    ModelSpec,
    ProviderName,
    UnknownModel,
    build_model_registry,
)
from everything_app.ai.providers import OpenAIChunk, Provider, Providers, RetryPolicy
from everything_app.ai.providers.offline import NOT_CONFIGURED, OfflineRules, Reply, Rule
from everything_app.ai.types import (
    ChatMessage,
    Finish,
    FinishReason,
    ProviderError,
    ProviderErrorKind,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolChoice,
    ToolSpec,
    Usage,
)
from everything_app.core.exports import lazy_exports

if TYPE_CHECKING:
    from everything_app.ai.registration import feature
    from everything_app.ai.setup import build_providers, model_registry

__all__ = [
    "NOT_CONFIGURED",
    "ChatMessage",
    "Finish",
    "FinishReason",
    "ModelRegistry",
    "ModelSpec",
    "OfflineRules",
    "OpenAIChunk",
    "Provider",
    "ProviderError",
    "ProviderErrorKind",
    "ProviderName",
    "Providers",
    "Reply",
    "RetryPolicy",
    "Rule",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolChoice",
    "ToolSpec",
    "UnknownModel",
    "Usage",
    "build_model_registry",
    "build_providers",
    "feature",
    "model_registry",
]

# At run time only: for mypy, the names are the ones imported above, and no others.
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {"feature": "registration", "build_providers": "setup", "model_registry": "setup"},
    )
