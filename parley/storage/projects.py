"""Projects in server history: one owner's conversations grouped, and the brief they grow.

Queries on one database session, each scoped to one owner; `HistoryStore` runs them in its
transactions, behind its availability guard. A project that is missing and one that belongs
to someone else look the same from outside (NotFound), as sessions do.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley import errors
from parley.brief.schema import MAX_BYTES, Brief
from parley.storage.models import ConversationSession, Project
from parley.storage.values import clean_title, decode_cursor, encode_cursor, parse_id

PROJECT_NOT_FOUND = "That project was not found. It may have been deleted."
STALE_PAGE = "That page of projects is out of date. Reload the list."
UNTITLED = "Untitled project"
# The newest conversations a project lists (`sessionIds`). An owner keeps 500 by default
# (PARLEY_HISTORY_MAX_SESSIONS), so this cuts only where an operator raised that cap.
SESSION_IDS_MAX = 500


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    title: str
    # As the contract spells it (camelCase), exactly as it was checked and stored.
    brief: dict[str, Any]
    session_ids: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ProjectPage:
    projects: tuple[ProjectInfo, ...]
    next_cursor: str | None


def parse_project_id(value: str) -> uuid.UUID:
    """A project's id; a malformed one is a project that is not there."""
    return parse_id(value, PROJECT_NOT_FOUND)


def stored_brief(brief: Brief) -> str:
    """The brief as a project keeps it (its wire JSON); 413 past the brief's 64 KB cap."""
    text = json.dumps(brief.wire(), ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode())
    if size > MAX_BYTES:
        raise errors.PayloadTooLarge(
            f"That brief is {size / 1024:.0f} KB; a project keeps up to {MAX_BYTES // 1024} KB "
            "of brief. Export it, then take finished items out or start a new project."
        )
    return text


async def owned(db: AsyncSession, owner: str, project_id: uuid.UUID) -> Project:
    """One of the owner's projects; NotFound for anyone else's or a missing one."""
    project = await db.scalar(
        select(Project).where(Project.id == project_id, Project.owner_id == owner)
    )
    if project is None:
        raise errors.NotFound(PROJECT_NOT_FOUND)
    return project


async def page(
    db: AsyncSession, owner: str, *, limit: int, cursor: str | None
) -> ProjectPage:
    """One page of the owner's projects, most recently changed first."""
    limit = max(1, limit)
    query = (
        select(Project)
        .where(Project.owner_id == owner)
        .order_by(Project.updated_at.desc(), Project.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        at, after = decode_cursor(cursor, STALE_PAGE)
        query = query.where(
            or_(Project.updated_at < at, and_(Project.updated_at == at, Project.id < after))
        )
    rows = list(await db.scalars(query))
    shown = rows[:limit]
    sessions = await _session_ids(db, owner, [row.id for row in shown])
    last = shown[-1] if len(rows) > limit else None
    return ProjectPage(
        projects=tuple(_info(row, sessions[row.id]) for row in shown),
        next_cursor=encode_cursor(last.updated_at, last.id) if last is not None else None,
    )


async def detail(db: AsyncSession, owner: str, project_id: uuid.UUID) -> ProjectInfo:
    """One of the owner's projects with its conversations' ids."""
    project = await owned(db, owner, project_id)
    sessions = await _session_ids(db, owner, [project.id])
    return _info(project, sessions[project.id])


async def create(
    db: AsyncSession,
    owner: str,
    *,
    title: str,
    brief: Brief,
    project_id: uuid.UUID,
    max_projects: int,
) -> ProjectInfo:
    """A new project; a proposed id the owner already has returns that project as is."""
    existing = await db.get(Project, project_id)
    if existing is not None:
        if existing.owner_id != owner:
            raise errors.NotFound(PROJECT_NOT_FOUND)
        return await detail(db, owner, project_id)
    kept = await db.scalar(
        select(func.count()).select_from(Project).where(Project.owner_id == owner)
    )
    if (kept or 0) >= max_projects:
        raise errors.HistoryFull(
            f"The server keeps at most {max_projects} of your projects. Delete a project you "
            "have finished to keep new ones there; this one stays on your device."
        )
    now = datetime.now(UTC)
    project = Project(
        id=project_id, owner_id=owner, title=clean_title(title) or UNTITLED,
        brief=stored_brief(brief), created_at=now, updated_at=now,
    )
    db.add(project)
    return _info(project, ())


async def update(
    db: AsyncSession,
    owner: str,
    project_id: uuid.UUID,
    *,
    title: str | None,
    brief: Brief | None,
) -> ProjectInfo:
    """Change a project's title, its brief, or both; what is not given stays."""
    project = await owned(db, owner, project_id)
    if title is not None:
        project.title = clean_title(title) or project.title
    if brief is not None:
        project.brief = stored_brief(brief)
    project.updated_at = max(datetime.now(UTC), project.updated_at)
    sessions = await _session_ids(db, owner, [project.id])
    return _info(project, sessions[project.id])


async def _session_ids(
    db: AsyncSession, owner: str, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """Each project's conversations, newest first, in one query for a whole page."""
    found: defaultdict[uuid.UUID, list[str]] = defaultdict(list)
    if project_ids:
        # The owner too, though a session only ever joins its owner's project: a second
        # lock on the same door.
        rows = await db.execute(
            select(ConversationSession.project_id, ConversationSession.id)
            .where(
                ConversationSession.owner_id == owner,
                ConversationSession.project_id.in_(project_ids),
            )
            .order_by(ConversationSession.updated_at.desc(), ConversationSession.id.desc())
        )
        for project_id, session_id in rows:
            ids = found[cast(uuid.UUID, project_id)]  # the IN above leaves out NULL
            if len(ids) < SESSION_IDS_MAX:
                ids.append(str(session_id))
    return {project_id: tuple(found[project_id]) for project_id in project_ids}


def _info(row: Project, session_ids: Sequence[str]) -> ProjectInfo:
    brief: dict[str, Any] = json.loads(row.brief)
    return ProjectInfo(
        id=str(row.id), title=row.title, brief=brief, session_ids=tuple(session_ids),
        created_at=row.created_at, updated_at=row.updated_at,
    )
