"""housekeeping: the last backup's status, when a key was revoked, sessions by expiry

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The app's own row (no user_id): no row-level security; the runtime role's grants on
    # later tables come from the migration that created the role.
    op.create_table(
        "backup_status",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_outcome", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_file", sa.String(length=255), nullable=True),
        sa.Column("last_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("failures_total", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "last_outcome IN ('ok', 'failed')", name=op.f("ck_backup_status_last_outcome")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_backup_status")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    # Keys revoked before this column existed: their grace period starts now.
    op.execute("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE revoked")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_expires_at")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    op.drop_table("backup_status")
