"""Helpers for the planner's action tests: a signed-in user's id, and a job context for them."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from everything_app.ai import Providers
from tests.job_context import RecordingJobContext


async def user_id_of(client: httpx.AsyncClient) -> uuid.UUID:
    session = (await client.get("/api/auth/get-session")).json()
    return uuid.UUID(session["user"]["id"])


async def context_for(app: FastAPI, client: httpx.AsyncClient) -> RecordingJobContext:
    """A job context acting for the client's user, with the services the planner's actions
    take from the app (the AI providers)."""
    ctx = RecordingJobContext(app, await user_id_of(client))
    ctx.services.provide(Providers, app.state.providers)
    return ctx
