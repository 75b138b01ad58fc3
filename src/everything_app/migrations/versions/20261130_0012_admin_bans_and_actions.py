"""admin: bans on users (better-auth's admin plugin), the admin list's order, the admin log

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from everything_app.core import rls

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "admin_actions"
# Row-level security (PostgreSQL): only a unit of work acting as an administrator reads or
# writes the log (it belongs to no user; the runtime role's grants cover later tables).
ADMIN_ONLY = f"current_setting('{rls.ROLE_SETTING}', true) = 'admin'"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("banned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("ban_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("ban_expires", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_users_created", ["created_at", "id"], unique=False)

    op.create_table(
        TABLE,
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_admin_actions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_admin_actions_created", ["created_at", "id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {TABLE}_admin ON {TABLE} USING ({ADMIN_ONLY}) WITH CHECK ({ADMIN_ONLY})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY IF EXISTS {TABLE}_admin ON {TABLE}")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_admin_actions_created")
    op.drop_table(TABLE)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_created")
        batch_op.drop_column("ban_expires")
        batch_op.drop_column("ban_reason")
        batch_op.drop_column("banned")
