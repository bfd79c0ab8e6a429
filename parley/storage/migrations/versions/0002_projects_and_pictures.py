"""Projects (conversations grouped, with their brief), and pictures kept with messages.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-08

Upgrades a 0001 database in place, keeping every session and message: the new columns are
nullable or have a default. On SQLite, `conversation_sessions` is rebuilt (batch mode: SQLite
cannot add a foreign key to a table), with foreign keys off for the migration (see
`parley.storage.db`), so the rebuild never cascades into `messages`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add projects, sessions' project and picture bytes, and messages' pictures."""
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("brief", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index("ix_projects_owner_recent", "projects", ["owner_id", "updated_at", "id"])
    with op.batch_alter_table("conversation_sessions") as batch:
        batch.add_column(sa.Column("project_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("image_bytes", sa.BigInteger(), server_default=sa.text("0"),
                      nullable=False)
        )
        batch.create_foreign_key(
            op.f("fk_conversation_sessions_project_id_projects"),
            "projects",
            ["project_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_conversation_sessions_project", ["project_id"])
    # A plain ADD COLUMN on both engines: the messages table (the big one) is not rebuilt.
    op.add_column("messages", sa.Column("images", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    """Back to 0001: projects and every kept picture are dropped; sessions and messages stay."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("images")
    with op.batch_alter_table("conversation_sessions") as batch:
        batch.drop_index("ix_conversation_sessions_project")
        batch.drop_constraint(
            op.f("fk_conversation_sessions_project_id_projects"), type_="foreignkey"
        )
        batch.drop_column("image_bytes")
        batch.drop_column("project_id")
    op.drop_index("ix_projects_owner_recent", table_name="projects")
    op.drop_table("projects")
