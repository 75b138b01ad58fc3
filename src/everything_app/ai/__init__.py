"""The LLM provider layer: models on offer, and streaming answers from them.

Other features use only the names exported here.
"""

from everything_app.ai.models import (
    ModelRegistry,
    ModelSpec,
    ProviderName,
    UnknownModel,
    build_model_registry,
)
from everything_app.ai.providers import Provider, Providers, RetryPolicy
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

__all__ = [
    "ChatMessage",
    "Finish",
    "FinishReason",
    "ModelRegistry",
    "ModelSpec",
    "Provider",
    "ProviderError",
    "ProviderErrorKind",
    "ProviderName",
    "Providers",
    "RetryPolicy",
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
]
