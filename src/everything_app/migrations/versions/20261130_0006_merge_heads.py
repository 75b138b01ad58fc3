"""merge the feature branches (planner 0003, reservations 0004, ai usage 0005)

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-11-30 09:00:00

Three features each revised 0002, which left three heads: `alembic revision --autogenerate`
refuses to guess which one a new migration builds on. This revision joins them into one
head; it changes no schema. New migrations revise the single head (0006 or later).
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | tuple[str, ...] | None = ("0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
