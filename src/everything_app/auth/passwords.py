"""argon2id password hashing, run in worker threads so the event loop never stalls.

Hashing is deliberately CPU-heavy. At most `cpu_count - 1` hashes run at once (at least one),
so a burst of sign-ins queues for the hashing threads instead of starving the event loop of
CPU: session checks and other requests keep their latency while sign-ins run flat out.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable

import anyio.to_thread
from anyio import CapacityLimiter
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id recommendation: 19 MiB of memory, 2 passes, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 8
MAX_LENGTH = 128
# Verified when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("dummy password that never matches")


HASHING_THREADS = max(1, (os.cpu_count() or 2) - 1)
# One limiter per event loop (anyio's limiter belongs to the loop that created it).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


async def _in_hashing_thread(fn: Callable[..., object], *args: str) -> object:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(HASHING_THREADS)
    return await anyio.to_thread.run_sync(fn, *args, limiter=limiter)


async def hash_password(password: str) -> str:
    return str(await _in_hashing_thread(_hasher.hash, password))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) burn the same time and answer False."""
    if password_hash is None:
        await _in_hashing_thread(_verify, _DUMMY_HASH, password)
        return False
    return bool(await _in_hashing_thread(_verify, password_hash, password))
