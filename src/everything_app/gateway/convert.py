"""An OpenAI request turned into what the provider layer takes: a model, turns, tools, a limit.

Problems the schema cannot see (a tool message without its call id, an image part) become
400s naming the parameter, as OpenAI reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from everything_app.ai import (
    ChatMessage,
    ModelRegistry,
    ModelSpec,
    ToolCall,
    ToolChoice,
    ToolSpec,
    UnknownModel,
)
from everything_app.core.errors import BadRequest, NotFound
from everything_app.gateway.schemas import ChatCompletionRequest, ContentPart, MessageIn, ToolIn


@dataclass(frozen=True)
class ProviderCall:
    model: ModelSpec
    messages: list[ChatMessage]
    tools: list[ToolSpec]
    tool_choice: ToolChoice | None
    max_tokens: int


def invalid(param: str, message: str) -> BadRequest:
    return BadRequest(message, code="invalid_value", details=[{"param": param}])


def find_model(registry: ModelRegistry, model_id: str) -> ModelSpec:
    try:
        return registry.get(model_id)
    except UnknownModel as exc:
        raise NotFound(
            f"The model `{model_id}` does not exist. Valid models: {', '.join(exc.valid_ids)}.",
            code="model_not_found",
            details=[{"param": "model"}],
        ) from None


def provider_call(request: ChatCompletionRequest, registry: ModelRegistry) -> ProviderCall:
    model = find_model(registry, request.model)
    messages = [_message(m, i) for i, m in enumerate(request.messages)]
    return ProviderCall(
        model=model,
        messages=messages,
        tools=[_tool(t) for t in request.tools or ()],
        tool_choice=_tool_choice(request),
        max_tokens=output_limit(request, model),
    )


def output_limit(request: ChatCompletionRequest, model: ModelSpec) -> int:
    """The requested limit, capped by the model's configured one (also when none was asked,
    so no upstream default can exceed what this server allows)."""
    requested = request.max_completion_tokens or request.max_tokens
    return min(requested, model.max_output_tokens) if requested else model.max_output_tokens


def _message(message: MessageIn, index: int) -> ChatMessage:
    where = f"messages[{index}]"
    content = _text(message.content, f"{where}.content")
    if message.role in ("system", "developer"):  # "developer" is OpenAI's newer name
        return ChatMessage("system", content)
    if message.role == "user":
        if message.content is None:
            raise invalid(f"{where}.content", f"Missing content in '{where}'.")
        return ChatMessage("user", content)
    if message.role == "tool":
        if not message.tool_call_id:
            raise invalid(f"{where}.tool_call_id", f"Missing 'tool_call_id' in '{where}'.")
        return ChatMessage("tool", content, tool_call_id=message.tool_call_id)
    calls = [
        ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments)
        for call in message.tool_calls or ()
    ]
    return ChatMessage("assistant", content, tool_calls=calls)


def _text(content: str | list[ContentPart] | None, param: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    texts: list[str] = []
    for i, part in enumerate(content):
        if part.type != "text" or part.text is None:
            raise invalid(
                f"{param}[{i}].type",
                f"Content parts of type '{part.type}' are not supported here; send text.",
            )
        texts.append(part.text)
    return "\n".join(texts)


def _tool_choice(request: ChatCompletionRequest) -> ToolChoice | None:
    """OpenAI's `tool_choice`, checked as OpenAI checks it: only with `tools`, and a named
    function must be one of them."""
    choice = request.tool_choice
    if choice is None:
        return None
    if not request.tools:
        raise invalid(
            "tool_choice",
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
        )
    if isinstance(choice, str):
        return ToolChoice(choice)
    name = choice.function.name
    if name not in {t.function.name for t in request.tools}:
        raise invalid(
            "tool_choice",
            f"Invalid value for 'tool_choice': no function named '{name}' in 'tools'.",
        )
    return ToolChoice("tool", name)


def _tool(tool: ToolIn) -> ToolSpec:
    function = tool.function
    return ToolSpec(
        name=function.name,
        description=function.description or "",
        parameters=function.parameters or {"type": "object", "properties": {}},
    )
