"""account exports (a user's data as a zip archive behind a time-limited link)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from everything_app.core import rls

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security (PostgreSQL): a user's transaction sees and writes only their own rows.
# The runtime role's grants come from the migration that creates it (also for later tables).
TABLE = "account_exports"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_exports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_exports")),
        sa.UniqueConstraint("job_id", name=op.f("uq_account_exports_job_id")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_account_exports_expires", ["expires_at"], unique=False)
        batch_op.create_index(
            "ix_account_exports_user_created", ["user_id", "created_at", "id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.owner_policies(TABLE):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.drop_owner_policies(TABLE):
            op.execute(statement)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_account_exports_user_created")
        batch_op.drop_index("ix_account_exports_expires")
    op.drop_table(TABLE)
