"""planner tables (events, tasks, expenses) and row-level security

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:30:00.000000

On PostgreSQL also: the runtime role and its grants, and ENABLE + FORCE ROW LEVEL SECURITY
with owner policies on every user-owned table so far (see core.rls).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from everything_app.core import rls

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLANNER_TABLES = ("calendar_events", "tasks", "expenses")
# Tables of earlier migrations that rows belong to a user in; sessions and api_keys are also
# readable by whoever presents their token (the sign-in lookup happens before anyone is known).
EARLIER_OWNED = ("chat_sessions", "messages")
CREDENTIAL_TABLES = {
    "sessions": ("token_hash", ("SELECT", "DELETE")),
    "api_keys": ("key_hash", ("SELECT",)),
}
EARLIER_TABLES = ("users", "sessions", "api_keys", "chat_sessions", "messages")


def _owner_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _owner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _runtime_role() -> str:
    return op.get_context().config.get_main_option("runtime_role") or "everything_app"  # type: ignore[union-attr]


def upgrade() -> None:
    op.create_table(
        "calendar_events",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        *_owner_columns(),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_calendar_events_end_after_start")
        ),
        _owner_fk("calendar_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_events")),
    )
    with op.batch_alter_table("calendar_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calendar_events_user_start", ["user_id", "start_time", "id"], unique=False
        )

    op.create_table(
        "tasks",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("is_complete", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=True),
        *_owner_columns(),
        _owner_fk("tasks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_user_complete_due", ["user_id", "is_complete", "due_date"], unique=False
        )
        batch_op.create_index(
            "ix_tasks_user_created", ["user_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "expenses",
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("incurred_at", sa.DateTime(timezone=True), nullable=False),
        *_owner_columns(),
        sa.CheckConstraint("amount > 0", name=op.f("ck_expenses_amount_positive")),
        _owner_fk("expenses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses")),
    )
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_expenses_user_incurred", ["user_id", "incurred_at", "id"], unique=False
        )

    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in rls.runtime_role_setup(_runtime_role()):
        op.execute(statement)
    for table in (*PLANNER_TABLES, *EARLIER_OWNED):
        for statement in rls.owner_policies(table):
            op.execute(statement)
    for table, (column, commands) in CREDENTIAL_TABLES.items():
        for statement in rls.owner_policies(
            table, credential_column=column, credential_commands=commands
        ):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*EARLIER_OWNED, *CREDENTIAL_TABLES):
            for statement in rls.drop_owner_policies(table):
                op.execute(statement)
        for statement in rls.runtime_role_teardown(
            _runtime_role(), (*EARLIER_TABLES, *PLANNER_TABLES)
        ):
            op.execute(statement)

    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.drop_index("ix_expenses_user_incurred")
    op.drop_table("expenses")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_user_created")
        batch_op.drop_index("ix_tasks_user_complete_due")
    op.drop_table("tasks")
    with op.batch_alter_table("calendar_events", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_events_user_start")
    op.drop_table("calendar_events")
