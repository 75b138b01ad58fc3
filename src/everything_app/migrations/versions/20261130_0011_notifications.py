"""notifications (what the app tells a user: reminders, their turn in a queue)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from everything_app.core import rls

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security (PostgreSQL): a user's transaction sees and writes only their own rows.
# The runtime role's grants come from the migration that creates it (also for later tables).
TABLE = "notifications"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_notifications_user_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_user_created", ["user_id", "created_at", "id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.owner_policies(TABLE):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.drop_owner_policies(TABLE):
            op.execute(statement)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_created")
    op.drop_table(TABLE)
