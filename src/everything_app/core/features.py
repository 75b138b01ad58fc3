"""Features, and the one step in which they offer the app what they have.

Each feature package exports a `feature`: its routers and a `register(registry)` that adds
what it offers to others (live queries, chat tools, owned tables, account-deletion hooks).
`create_app` runs every feature's `register` on a registry of its own, so two apps in one
process share no registration, and nothing is registered by importing a module.

A kind of offering is a class that the feature receiving it defines (realtime's
`QueryRegistry`, chat's `ToolBoxes`, …); the registry holds one instance of each kind, so
core needs to know none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from fastapi import APIRouter

KindT = TypeVar("KindT")


class Registry:
    """One app's offerings, one instance per kind, made on first use."""

    def __init__(self) -> None:
        self._kinds: dict[type[Any], object] = {}

    def __getitem__(self, kind: type[KindT]) -> KindT:
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = kind()
        return cast(KindT, found)


def _nothing(registry: Registry) -> None:
    return None


@dataclass(frozen=True)
class Feature:
    name: str
    # Mounted in this order; each router carries its auth decision (core.routers).
    routers: Sequence[APIRouter] = ()
    register: Callable[[Registry], None] = _nothing
