"""The history tables: projects, conversations and their messages (PostgreSQL and SQLite)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Sender = Literal["user", "bot"]

TITLE_MAX = 200
OWNER_MAX = 255
MODE_MAX = 32

# Stable constraint names, so later migrations can refer to them on both engines.
NAMING = {
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines."""

    # SQLite keeps no zone: values go in as UTC wall time and come back naive, so the
    # zone is put back on read. PostgreSQL's timestamptz round-trips it by itself.
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("history timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class Project(Base):
    """What a person is designing: its conversations and the brief they grow together."""

    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[str] = mapped_column(String(OWNER_MAX))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    # The brief as the contract spells it (`Brief.wire()` as JSON text), checked against
    # `parley.brief.schema.Brief` and its 64 KB cap before it is stored.
    brief: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # As for sessions: one owner's projects, newest first, the id breaking ties.
    __table_args__ = (Index("ix_projects_owner_recent", "owner_id", "updated_at", "id"),)


class ConversationSession(Base):
    """One conversation, owned by a device (hash of its secret) or a signed-in user."""

    __tablename__ = "conversation_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[str] = mapped_column(String(OWNER_MAX))
    title: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    mode: Mapped[str] = mapped_column(String(MODE_MAX))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # Deleting a project keeps its conversations: they are detached, never deleted.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    # Bytes of the pictures kept with this conversation's messages, so the owner's total
    # (checked against PARLEY_HISTORY_MAX_IMAGE_BYTES) is a sum over their sessions rather
    # than over every message. Messages are only ever added, so it only grows.
    image_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))

    # The list view: one owner's sessions, newest first (scanned backwards), with the
    # id as the tie-breaker the pagination cursor uses. The project index finds a project's
    # sessions, and the rows ON DELETE SET NULL must detach, without a full scan.
    __table_args__ = (
        Index("ix_conversation_sessions_owner_recent", "owner_id", "updated_at", "id"),
        Index("ix_conversation_sessions_project", "project_id"),
    )


class Message(Base):
    """One turn of a conversation: what the person said, or the reply."""

    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversation_sessions.id", ondelete="CASCADE")
    )
    sender: Mapped[str] = mapped_column(String(8))
    message_text: Mapped[str] = mapped_column(Text)
    # A reply cut short because the person barged in or the connection dropped.
    interrupted: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The person's pictures as re-encoded data URLs (never what they sent: no metadata);
    # NULL when the turn had none.
    images: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime]

    # Also serves the foreign key, so deleting a session finds its messages quickly.
    __table_args__ = (
        CheckConstraint("sender IN ('user', 'bot')", name="sender"),
        Index("ix_messages_session_order", "session_id", "created_at", "id"),
    )
