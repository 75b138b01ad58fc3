"""What an account export holds: sections, each declared by the feature that owns the data.

Like the account-deletion hooks, a feature adds its sections in its `register` step:

    registry[AccountExportSections].add(table_section("reservations", Reservation))

and the export (`account.export`) writes one JSON file per section into the archive, so a
new table is exported by declaring it, not by editing the exporter (owned tables are
declared for every table `owned.add_table` offers). A section reads only the given user's
rows (its queries say so, and on PostgreSQL row-level security holds it to that), in keyset
pages, so a million messages never sit in memory at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, and_, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

Row = dict[str, Any]
# `pages(db, user_id, size)`: the user's rows, `size` at a time, in a stable order.
Pages = Callable[[AsyncSession, uuid.UUID, int], AsyncIterator[list[Row]]]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Column names that hold a credential or a secret's hash: never exported. A section that has
# one must leave it out by name (`exclude`), or its declaration is refused.
_SECRET = re.compile(r"(^|_)(hash|password|secret|token)($|_)")


@dataclass(frozen=True)
class ExportSection:
    """One file of the archive, `<name>.json`: a list of rows, or one object (`one`)."""

    name: str
    pages: Pages
    one: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"export section name {self.name!r} is not lower_snake_case")


class AccountExportSections:
    """One app's export sections, in registration order (a registry kind, core.features)."""

    def __init__(self) -> None:
        self._sections: dict[str, ExportSection] = {}

    def add(self, section: ExportSection) -> None:
        if section.name in self._sections or section.name == "manifest":
            raise ValueError(f"export section {section.name!r} is added twice")
        self._sections[section.name] = section

    def __iter__(self) -> Iterator[ExportSection]:
        return iter(list(self._sections.values()))

    def __len__(self) -> int:
        return len(self._sections)


def table_section(
    name: str,
    model: type[DeclarativeBase],
    *,
    owner: InstrumentedAttribute[uuid.UUID] | None = None,
    order: InstrumentedAttribute[Any] | None = None,
    exclude: Sequence[str] = (),
    one: bool = False,
    description: str = "",
) -> ExportSection:
    """A section of every column of `model` but `exclude`, for the rows whose `owner`
    (default `model.user_id`) is the user, read in keyset pages by (`order`, id), `order`
    being a non-null column (default `created_at`) that an index starting with the owner
    column should cover."""
    mapper = inspect(model)
    columns: list[Column[Any]] = [
        column for key, column in mapper.columns.items() if key not in exclude
    ]
    unknown = set(exclude) - set(mapper.columns.keys())
    if unknown:
        raise ValueError(f"export section {name!r} excludes unknown columns {sorted(unknown)}")
    secret = [c.key for c in columns if _SECRET.search(c.key)]
    if secret:
        raise ValueError(f"export section {name!r} would export secrets {secret}: exclude them")
    owner_column = owner if owner is not None else getattr(model, "user_id")  # noqa: B009
    order_column = order if order is not None else getattr(model, "created_at")  # noqa: B009
    id_column = getattr(model, "id")  # noqa: B009
    key_name, id_name = order_column.key, id_column.key
    if key_name not in {c.key for c in columns} or id_name not in {c.key for c in columns}:
        raise ValueError(f"export section {name!r} must export its order and id columns")

    async def pages(db: AsyncSession, user_id: uuid.UUID, size: int) -> AsyncIterator[list[Row]]:
        last: tuple[Any, Any] | None = None
        while True:
            query = (
                select(*columns)
                .where(owner_column == user_id)
                .order_by(order_column, id_column)
                .limit(size)
            )
            if last is not None:
                # The `>=` alone is a range on the (owner, order, id) index for any planner;
                # the OR then drops the rows of the last page that share its order value.
                query = query.where(
                    order_column >= last[0],
                    or_(
                        order_column > last[0],
                        and_(order_column == last[0], id_column > last[1]),
                    ),
                )
            rows = [dict(row) for row in (await db.execute(query)).mappings()]
            if rows:
                yield rows
            if len(rows) < size:
                return
            last = rows[-1][key_name], rows[-1][id_name]

    return ExportSection(name, pages, one=one, description=description)
