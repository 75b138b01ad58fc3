"""merge heads 0003, 0004 and 0005

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-11-30 00:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
