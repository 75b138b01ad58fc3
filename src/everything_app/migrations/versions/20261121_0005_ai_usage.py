"""ai usage (the gateway's per-key, per-user usage rows)

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-21 23:40:53.905020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from everything_app.core import rls

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security (PostgreSQL): a user's transaction sees and writes only their own rows.
# The runtime role's grants come from the migration that creates it (also for later tables).
TABLE = "ai_usage"


def upgrade() -> None:
    op.create_table(
        "ai_usage",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('complete', 'error', 'canceled')", name=op.f("ck_ai_usage_status")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_ai_usage_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ai_usage_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_usage")),
    )
    with op.batch_alter_table("ai_usage", schema=None) as batch_op:
        batch_op.create_index("ix_ai_usage_key_created", ["api_key_id", "created_at"], unique=False)
        batch_op.create_index("ix_ai_usage_user_created", ["user_id", "created_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.owner_policies(TABLE):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.drop_owner_policies(TABLE):
            op.execute(statement)
    with op.batch_alter_table("ai_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_usage_user_created")
        batch_op.drop_index("ix_ai_usage_key_created")

    op.drop_table("ai_usage")
