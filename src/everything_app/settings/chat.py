"""Streaming AI chat."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class ChatSettings(BaseSettings):
    rate_limit_chat_user: str = "30/minute"
    chat_max_concurrent_streams: int = Field(default=3, ge=1, le=10_000)
    # Admission control, per process (chat.admission): answers generated at once, and how many
    # requests may wait for one, for how long, before 503 `chat_busy` with Retry-After. An
    # answer mostly waits on its model (a relayed token costs ~0.1 ms of CPU), and holds its
    # place until it is stored, a moment after its last byte: at 64 connections, 24 left the
    # CPU half idle and refused ~3% of requests; 64 served 1.5x the replies with half the p99
    # (bench: the side-by-side chat run, a 64 x 5 ms model).
    chat_max_generations: int = Field(default=64, ge=1, le=10_000)
    chat_queue_size: int = Field(default=64, ge=0, le=100_000)
    chat_queue_wait_seconds: float = Field(default=10.0, ge=0, le=300)
    # A second model call per new chat for its title, after the answer, at low priority; off:
    # the title is the first words of the first message (given at once, for free).
    chat_model_titles: bool = False
    # Seconds between writes of an answer still streaming (live views of it, and what is kept
    # if the server dies mid-answer); a resume replays it from memory, not from these.
    chat_flush_seconds: float = Field(default=2.0, ge=0, le=60)
