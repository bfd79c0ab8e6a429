"""HistoryStore: every read and write of server-side history, always scoped to one owner.

A session (or project) that is missing and one that belongs to someone else look the same
from outside (NotFound), so ids cannot be probed. Projects' own queries are in `projects.py`.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from parley import errors
from parley.brief.schema import Brief
from parley.observability.components import Components
from parley.storage import projects
from parley.storage.models import MODE_MAX, ConversationSession, Message, Project, Sender
from parley.storage.owners import OwnerResolver
from parley.storage.projects import ProjectInfo, ProjectPage, parse_project_id
from parley.storage.values import (
    UNSTORABLE,
    clean_title,
    decode_cursor,
    encode_cursor,
    parse_id,
    storable,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

NOT_FOUND = "That conversation was not found. It may have been deleted."
STALE_PAGE = "That page of conversations is out of date. Reload the list."
DEFAULT_TITLE_CHARS = 60
_CLOSE_TIMEOUT = 10.0  # seconds aclose waits for shielded writes
# The longest one read or write may take before the database counts as unreachable.
STORAGE_TIMEOUT = 5.0


def available(
    method: Callable[Concatenate[HistoryStore, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[HistoryStore, P], Coroutine[Any, Any, T]]:
    """A database that cannot be reached becomes 503 `storage_unavailable`, never a 500.

    Our own errors (NotFound, ...) and refusals of bad data pass through; what is left of
    SQLAlchemy's and the driver's errors, and a call that takes too long, mean the database
    is not answering right now.
    """

    @functools.wraps(method)
    async def guarded(self: HistoryStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            async with asyncio.timeout(STORAGE_TIMEOUT):
                result = await method(self, *args, **kwargs)
        except (errors.ParleyError, IntegrityError):
            self._reached()
            raise
        except DBAPIError as exc:
            if not exc.connection_invalidated and not _is_connection_problem(exc):
                raise
            self._unreachable(exc)
            raise errors.StorageUnavailable() from None
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            self._unreachable(exc)
            raise errors.StorageUnavailable() from None
        self._reached()
        return result

    return guarded


def _is_connection_problem(exc: DBAPIError) -> bool:
    # OperationalError and InterfaceError are the DB-API's words for "the database or the
    # connection failed", as opposed to the data or the statement.
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


class Unchanged(enum.Enum):
    """What a change leaves as it is (where None means "none": no project)."""

    KEEP = "keep"


@dataclass(frozen=True)
class SessionInfo:
    id: str
    title: str | None
    mode: str
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime
    project_id: str | None = None


@dataclass(frozen=True)
class MessageInfo:
    id: str
    sender: Sender
    text: str
    interrupted: bool
    created_at: datetime
    # The person's pictures, re-encoded data URLs; empty when the turn had none.
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionDetail:
    session: SessionInfo
    messages: tuple[MessageInfo, ...]
    # Pass as `before` for the page of older messages; None when there are none.
    next_before: str | None = None


@dataclass(frozen=True)
class SessionPage:
    sessions: tuple[SessionInfo, ...]
    next_cursor: str | None


def default_title(text: str, limit: int = DEFAULT_TITLE_CHARS) -> str:
    """A title from the first thing the person said: up to `limit` chars, on a word boundary."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[:limit]
    space = cut.rfind(" ")
    # One enormous word: cut it mid-word rather than give an empty title.
    return (cut[:space] if space > limit // 3 else cut).rstrip(" ,.;:-") + "…"


class HistoryStore:
    """Server-side conversation history on one async engine (PostgreSQL or SQLite)."""

    def __init__(
        self,
        engine: AsyncEngine,
        owners: OwnerResolver | None = None,
        *,
        components: Components | None = None,
        max_sessions: int = 500,
        max_messages: int = 2_000,
        max_projects: int = 200,
        max_image_bytes: int = 50_000_000,
    ) -> None:
        self.engine = engine
        self.owners = owners or OwnerResolver()
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self.max_projects = max_projects
        self.max_image_bytes = max_image_bytes
        self._components = components
        self._db = async_sessionmaker(engine, expire_on_commit=False)
        self._pending: set[asyncio.Task[Any]] = set()

    def _reached(self) -> None:
        if self._components is not None:
            self._components.up("database")

    def _unreachable(self, exc: BaseException) -> None:
        # The type only: a driver's message may quote the URL or the text being stored.
        if self._components is not None:
            self._components.down("database", type(exc).__name__)

    @available
    async def ping(self) -> None:
        """One round trip to the database (the readiness probe)."""
        async with self._db() as db:
            await db.execute(select(1))

    @available
    async def list_sessions(
        self, owner: str, *, limit: int = 20, cursor: str | None = None
    ) -> SessionPage:
        """One page of the owner's sessions, most recently active first."""
        limit = max(1, limit)
        row = ConversationSession
        query = (
            select(row)
            .where(row.owner_id == owner)
            .order_by(row.updated_at.desc(), row.id.desc())
            .limit(limit + 1)
        )
        if cursor is not None:
            at, after = decode_cursor(cursor, STALE_PAGE)
            query = query.where(
                or_(row.updated_at < at, and_(row.updated_at == at, row.id < after))
            )
        async with self._db() as db:
            rows = list(await db.scalars(query))
        page = rows[:limit]
        more = len(rows) > limit
        return SessionPage(
            sessions=tuple(_session_info(r) for r in page),
            next_cursor=encode_cursor(page[-1].updated_at, page[-1].id) if more else None,
        )

    @available
    async def get_session(
        self, owner: str, session_id: str, *, limit: int | None = None, before: str | None = None
    ) -> SessionDetail:
        """One of the owner's sessions with its newest `limit` messages (all by default)
        before the message `before`, oldest first."""
        sid = _parse_id(session_id)
        async with self._db() as db:
            session = await _owned(db, owner, sid)
            query = select(Message).where(Message.session_id == sid)
            if before is not None:
                anchor = await db.get(Message, _parse_message_id(before))
                if anchor is None or anchor.session_id != sid:
                    raise errors.InvalidRequest(
                        "That page of the conversation is out of date. Open it again."
                    )
                query = query.where(
                    or_(Message.created_at < anchor.created_at,
                        and_(Message.created_at == anchor.created_at, Message.id < anchor.id))
                )
            query = query.order_by(Message.created_at.desc(), Message.id.desc())
            if limit is not None:
                query = query.limit(limit + 1)
            rows = list(await db.scalars(query))
            more = limit is not None and len(rows) > limit
            page = rows[:limit] if limit is not None else rows
            page.reverse()
            return SessionDetail(
                session=_session_info(session),
                messages=tuple(_message_info(m) for m in page),
                next_before=str(page[0].id) if more and page else None,
            )

    @available
    async def create_session(
        self,
        owner: str,
        *,
        title: str | None = None,
        mode: str = "sparring",
        session_id: str | None = None,
        project_id: str | None = None,
    ) -> SessionInfo:
        """A new session, in one of the owner's projects if `project_id` names one; a
        proposed id the owner already has returns that session as is."""
        sid = _parse_id(session_id) if session_id is not None else uuid.uuid4()
        pid = parse_project_id(project_id) if project_id is not None else None
        _check_mode(mode)

        async def attempt(db: AsyncSession) -> SessionInfo:
            existing = await db.get(ConversationSession, sid)
            if existing is not None:
                if existing.owner_id != owner:
                    raise errors.NotFound(NOT_FOUND)
                return _session_info(existing)
            if pid is not None:
                await projects.owned(db, owner, pid)
            await self._check_room(db, owner)
            now = datetime.now(UTC)
            session = ConversationSession(
                id=sid, owner_id=owner, title=clean_title(title), mode=mode,
                started_at=now, updated_at=now, project_id=pid, image_bytes=0,
            )
            db.add(session)
            return _session_info(session)

        return await self._write(attempt)

    @available
    async def rename(self, owner: str, session_id: str, title: str) -> SessionInfo:
        """Give one of the owner's sessions a new title."""
        return await self._update_session(owner, session_id, title, Unchanged.KEEP)

    @available
    async def update_session(
        self,
        owner: str,
        session_id: str,
        *,
        title: str | None = None,
        project_id: str | Unchanged | None = Unchanged.KEEP,
    ) -> SessionInfo:
        """Rename one of the owner's sessions, move it to one of their projects (None: out
        of any), or both; what is not given stays."""
        return await self._update_session(owner, session_id, title, project_id)

    async def _update_session(
        self, owner: str, session_id: str, title: str | None, project_id: str | Unchanged | None
    ) -> SessionInfo:
        sid = _parse_id(session_id)
        keep_project = isinstance(project_id, Unchanged)
        moved = parse_project_id(project_id) if isinstance(project_id, str) else None

        async def attempt(db: AsyncSession) -> SessionInfo:
            session = await _owned(db, owner, sid)
            if moved is not None:
                await projects.owned(db, owner, moved)
            # Renaming and moving are not activity: the session keeps its place in the list.
            if title is not None:
                session.title = clean_title(title)
            if not keep_project:
                session.project_id = moved
            return _session_info(session)

        return await self._write(attempt)

    @available
    async def delete(self, owner: str, session_id: str) -> None:
        """Delete one of the owner's sessions and its messages."""
        sid = _parse_id(session_id)
        statement = delete(ConversationSession).where(
            ConversationSession.id == sid, ConversationSession.owner_id == owner
        )
        if await self._count(statement) == 0:
            raise errors.NotFound(NOT_FOUND)

    @available
    async def delete_all(self, owner: str) -> int:
        """Delete every session the owner has; how many there were."""
        statement = delete(ConversationSession).where(ConversationSession.owner_id == owner)
        return await self._count(statement)

    @available
    async def claim(self, device_owner: str, user_owner: str) -> int:
        """Move a device's sessions, and its projects with them, to a signed-in user; how
        many sessions moved."""
        if device_owner == user_owner:
            return 0
        async with self._db() as db, db.begin():
            # Together, so a session never points at a project its owner does not have.
            await db.execute(
                update(Project).where(Project.owner_id == device_owner)
                .values(owner_id=user_owner)
            )
            sessions = cast(CursorResult[Any], await db.execute(
                update(ConversationSession)
                .where(ConversationSession.owner_id == device_owner)
                .values(owner_id=user_owner)
            ))
            return sessions.rowcount

    @available
    async def append_message(
        self,
        owner: str,
        session_id: str,
        sender: Sender,
        text: str,
        *,
        interrupted: bool = False,
        mode: str = "sparring",
        images: Sequence[str] = (),
        project_id: str | None = None,
    ) -> MessageInfo:
        """Add a turn, creating the session (with `mode`) if the owner does not have it yet.

        `images` are the turn's pictures as already re-encoded data URLs (parley.images),
        never what the person sent; they count against the owner's picture bytes. A new
        session joins the owner's project `project_id`, which is made (untitled, its brief
        empty) when the device has not sent it yet; an id that is not one, or another
        owner's, leaves the session in no project rather than failing the turn.
        """
        if sender not in ("user", "bot"):
            raise ValueError(f"sender must be 'user' or 'bot', not {sender!r}")
        sid = _parse_id(session_id)
        _check_mode(mode)
        text = storable(text)
        pictures = list(images) or None
        picture_bytes = sum(len(url) for url in images)

        async def attempt(db: AsyncSession) -> MessageInfo:
            # FOR UPDATE (PostgreSQL; SQLite locks the whole file anyway) serialises turns
            # of one session, so each message gets a later timestamp than the last.
            session = await db.scalar(
                select(ConversationSession).where(ConversationSession.id == sid).with_for_update()
            )
            now = datetime.now(UTC)
            if session is None:
                await self._check_room(db, owner)
                session = ConversationSession(
                    id=sid, owner_id=owner, mode=mode, started_at=now, updated_at=now,
                    image_bytes=0, project_id=await self._project_for(db, owner, project_id),
                )
                db.add(session)
                await db.flush()
            elif session.owner_id != owner:
                raise errors.NotFound(NOT_FOUND)
            else:
                kept = await db.scalar(
                    select(func.count()).select_from(Message).where(Message.session_id == sid)
                )
                if (kept or 0) >= self.max_messages:
                    raise errors.HistoryFull(
                        f"This conversation has {self.max_messages} turns kept on the server, "
                        "the most it keeps. Start a new conversation; this one stays on your "
                        "device."
                    )
            if picture_bytes:
                await self._check_picture_room(db, owner, picture_bytes)
                session.image_bytes += picture_bytes
            # Strictly increasing within a session even if two turns land in the same
            # microsecond or the clock steps back: the order of a conversation is its
            # meaning.
            at = max(now, session.updated_at + timedelta(microseconds=1))
            session.updated_at = at
            if session.title is None and sender == "user":
                session.title = clean_title(default_title(text))
            message = Message(
                id=uuid.uuid4(), session_id=sid, sender=sender, message_text=text,
                interrupted=interrupted, images=pictures, created_at=at,
            )
            db.add(message)
            return _message_info(message)

        return await self._write(attempt)

    async def append_message_shielded(
        self,
        owner: str,
        session_id: str,
        sender: Sender,
        text: str,
        *,
        interrupted: bool = False,
        mode: str = "sparring",
    ) -> MessageInfo:
        """`append_message` in a task of its own, which cancelling the caller cannot stop.

        For the partial reply of a stream the client abandoned: the request is being
        cancelled, yet the reply should be kept. The write starts before the first await,
        so even an already-cancelled caller saves it; `aclose` waits for such writes.
        """
        task = asyncio.get_running_loop().create_task(
            self.append_message(
                owner, session_id, sender, text, interrupted=interrupted, mode=mode
            ),
            name="parley-history-append",
        )
        self._pending.add(task)
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if task.cancelled():
            return
        problem = task.exception()
        # Our own errors (NotFound, ...) reach the caller; a database failure may have
        # nobody left to hear it. The type only: its message may quote the text stored.
        if problem is not None and not isinstance(problem, errors.ParleyError):
            log.warning("could not store a message: %s", type(problem).__name__)

    async def aclose(self) -> None:
        """Finish shielded writes (briefly), then close every database connection."""
        if self._pending:
            _, late = await asyncio.wait(set(self._pending), timeout=_CLOSE_TIMEOUT)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self.engine.dispose()

    async def _check_room(self, db: AsyncSession, owner: str) -> None:
        """HistoryFull when the owner already keeps as many conversations as allowed."""
        count = await db.scalar(
            select(func.count()).select_from(ConversationSession)
            .where(ConversationSession.owner_id == owner)
        )
        if (count or 0) >= self.max_sessions:
            raise errors.HistoryFull(
                f"The server keeps at most {self.max_sessions} of your conversations. Delete "
                "old ones to keep new ones there; this one stays on your device."
            )

    async def _project_for(
        self, db: AsyncSession, owner: str, project_id: str | None
    ) -> uuid.UUID | None:
        """The owner's project a turn names, made if the device has not sent it yet."""
        if project_id is None:
            return None
        try:
            pid = parse_project_id(project_id)
        except errors.NotFound:
            return None
        existing = await db.get(Project, pid)
        if existing is not None:
            return pid if existing.owner_id == owner else None
        try:
            await projects.create(db, owner, title="", brief=Brief(), project_id=pid,
                                  max_projects=self.max_projects)
        except errors.HistoryFull:
            return None
        await db.flush()
        return pid

    async def _check_picture_room(self, db: AsyncSession, owner: str, adding: int) -> None:
        """HistoryFull when `adding` bytes of pictures would take the owner past their cap."""
        kept = await db.scalar(
            select(func.coalesce(func.sum(ConversationSession.image_bytes), 0))
            .where(ConversationSession.owner_id == owner)
        )
        if (kept or 0) + adding > self.max_image_bytes:
            cap = self.max_image_bytes / 1_000_000
            raise errors.HistoryFull(
                f"The server keeps up to {cap:g} MB of your pictures and this turn's would go "
                "past it. Delete old conversations with pictures to keep new ones there; "
                "this one stays on your device."
            )

    # Projects: the queries are in projects.py; here they get a transaction and the guard.

    @available
    async def list_projects(
        self, owner: str, *, limit: int = 20, cursor: str | None = None
    ) -> ProjectPage:
        """One page of the owner's projects, most recently changed first."""
        async with self._db() as db:
            return await projects.page(db, owner, limit=limit, cursor=cursor)

    @available
    async def get_project(self, owner: str, project_id: str) -> ProjectInfo:
        """One of the owner's projects, with its conversations' ids (newest first)."""
        pid = parse_project_id(project_id)
        async with self._db() as db:
            return await projects.detail(db, owner, pid)

    @available
    async def create_project(
        self, owner: str, title: str, brief: Brief | None = None, *,
        project_id: str | None = None,
    ) -> ProjectInfo:
        """A new project (its brief empty unless given); a proposed id the owner already
        has returns that project as is."""
        pid = parse_project_id(project_id) if project_id is not None else uuid.uuid4()
        kept = brief or Brief()
        return await self._write(lambda db: projects.create(
            db, owner, title=title, brief=kept, project_id=pid, max_projects=self.max_projects,
        ))

    @available
    async def update_project(
        self, owner: str, project_id: str, *, title: str | None = None,
        brief: Brief | None = None,
    ) -> ProjectInfo:
        """Change one of the owner's projects' title, brief, or both."""
        pid = parse_project_id(project_id)
        return await self._write(
            lambda db: projects.update(db, owner, pid, title=title, brief=brief)
        )

    @available
    async def delete_project(self, owner: str, project_id: str) -> None:
        """Delete one of the owner's projects; its conversations stay, in no project."""
        pid = parse_project_id(project_id)
        # ON DELETE SET NULL detaches the sessions, in the same statement.
        statement = delete(Project).where(Project.id == pid, Project.owner_id == owner)
        if await self._count(statement) == 0:
            raise errors.NotFound(projects.PROJECT_NOT_FOUND)

    async def _write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        # Two first writes racing to create the same session id: one insert loses on the
        # primary key; running the work again finds the winner's row.
        for attempt in range(2):
            try:
                async with self._db() as db, db.begin():
                    return await work(db)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _count(self, statement: Any) -> int:
        async with self._db() as db, db.begin():
            result = cast(CursorResult[Any], await db.execute(statement))
            return result.rowcount


async def _owned(db: AsyncSession, owner: str, sid: uuid.UUID) -> ConversationSession:
    session = await db.scalar(
        select(ConversationSession).where(
            ConversationSession.id == sid, ConversationSession.owner_id == owner
        )
    )
    if session is None:
        raise errors.NotFound(NOT_FOUND)
    return session


def _parse_id(value: str) -> uuid.UUID:
    return parse_id(value, NOT_FOUND)


def _parse_message_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise errors.InvalidRequest(
            "That page of the conversation is out of date. Open it again."
        ) from None


def _check_mode(mode: str) -> None:
    if not mode or len(mode) > MODE_MAX or UNSTORABLE.search(mode):
        raise errors.InvalidRequest("That conversation mode is not known. Pick one in Settings.")


def _session_info(row: ConversationSession) -> SessionInfo:
    return SessionInfo(
        id=str(row.id), title=row.title, mode=row.mode, started_at=row.started_at,
        ended_at=row.ended_at, updated_at=row.updated_at,
        project_id=str(row.project_id) if row.project_id is not None else None,
    )


def _message_info(row: Message) -> MessageInfo:
    return MessageInfo(
        id=str(row.id), sender=cast(Sender, row.sender), text=row.message_text,
        interrupted=row.interrupted, created_at=row.created_at,
        images=tuple(row.images or ()),
    )
