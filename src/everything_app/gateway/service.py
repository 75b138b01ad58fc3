"""A chat completion from request to response, and the model list, for the routes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from everything_app.ai import ModelRegistry, ModelSpec, Providers
from everything_app.auth import Principal
from everything_app.core.logging import get_logger
from everything_app.core.metrics import count_tokens
from everything_app.gateway import usage
from everything_app.gateway.convert import provider_call
from everything_app.gateway.inflight import InFlight
from everything_app.gateway.response import CompletionResponse, Outcome, RelayResponse
from everything_app.gateway.schemas import ChatCompletionRequest

log = get_logger(__name__)

# Models come from configuration, not from an upload, so they have no creation time of their
# own; a fixed value keeps every instance's answer identical.
MODEL_CREATED = 0


def model_object(spec: ModelSpec) -> dict[str, Any]:
    return {"id": spec.id, "object": "model", "created": MODEL_CREATED, "owned_by": spec.provider}


def model_list(registry: ModelRegistry) -> dict[str, Any]:
    return {"object": "list", "data": [model_object(spec) for spec in registry.list()]}


def start_completion(
    request: ChatCompletionRequest,
    principal: Principal,
    *,
    registry: ModelRegistry,
    providers: Providers,
    sessionmaker: async_sessionmaker[AsyncSession],
    inflight: InFlight,
) -> CompletionResponse | RelayResponse:
    """Check the request and prepare the answer; the provider is called once it is sent.

    Nothing here waits on the database or the network: the usage row is written once the
    answer is over, so the first token reaches the client as soon as the model sends it.
    """
    call = provider_call(request, registry)
    owner = principal.account.id  # who, as verified: no ORM user is built for it
    key_id = principal.api_key.id if principal.api_key is not None else None

    async def record(outcome: Outcome) -> None:
        entry = usage.UsageRecord(
            user_id=owner,
            api_key_id=key_id,
            model=call.model.id,
            input_tokens=outcome.usage.input_tokens if outcome.usage else 0,
            output_tokens=outcome.usage.output_tokens if outcome.usage else 0,
            status=outcome.status,
        )
        count_tokens(
            "gateway", call.model.provider, entry.model, entry.input_tokens, entry.output_tokens
        )
        try:
            await usage.record(sessionmaker, entry)
        except Exception:
            # The answer has been delivered; a lost row is logged with everything it held.
            log.exception(
                "gateway_usage_not_recorded",
                user_id=str(entry.user_id),
                api_key_id=str(entry.api_key_id),
                model=entry.model,
                input_tokens=entry.input_tokens,
                output_tokens=entry.output_tokens,
                status=entry.status,
            )

    options = request.stream_options
    include_usage = request.stream and options is not None and options.include_usage
    if request.stream:
        # Same protocol on both sides: the upstream's chunks are relayed, not converted.
        chunks = providers.openai_chunks(
            call.model,
            call.messages,
            tools=call.tools,
            tool_choice=call.tool_choice,
            max_tokens=call.max_tokens,
        )
        if chunks is not None:
            return RelayResponse(
                chunks,
                model=call.model.id,
                include_usage=include_usage,
                on_done=record,
                inflight=inflight,
            )
    return CompletionResponse(
        providers.stream(
            call.model,
            call.messages,
            tools=call.tools,
            tool_choice=call.tool_choice,
            max_tokens=call.max_tokens,
        ),
        model=call.model.id,
        stream=request.stream,
        include_usage=include_usage,
        on_done=record,
        inflight=inflight,
    )
