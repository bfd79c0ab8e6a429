"""/api/projects: a person's projects on the server, each with its brief and its
conversations, for its owner only (camelCase JSON, as the contract spells it)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley import errors
from parley.brief.schema import Brief
from parley.deps import StoreDep
from parley.routes.identity import OwnerDep, client_budget
from parley.storage.models import TITLE_MAX
from parley.storage.projects import ProjectInfo
from parley.text import CleanText

router = APIRouter(
    prefix="/api/projects", tags=["projects"], dependencies=[Depends(client_budget)]
)

# Projects per page: each carries its whole brief (up to 64 KB), so pages are smaller than
# the sessions list's.
PAGE_MAX = 50
# A field name worth quoting in an error; anything else (an unknown key, which could hold
# anything) is not echoed back.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")

BriefBody = Annotated[
    dict[str, Any] | None,
    Field(description="The living brief: `{title, sections, conflicts}` (see the contract)."),
]


class ProjectOut(BaseModel):
    id: str
    title: str
    brief: dict[str, Any] = Field(description="The living brief, as it was kept.")
    session_ids: list[str] = Field(
        serialization_alias="sessionIds",
        description="The project's conversations (`/api/sessions`), newest first.",
    )
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")

    @classmethod
    def of(cls, info: ProjectInfo) -> ProjectOut:
        return cls(
            id=info.id, title=info.title, brief=info.brief, session_ids=list(info.session_ids),
            created_at=info.created_at, updated_at=info.updated_at,
        )


class ProjectPageOut(BaseModel):
    projects: list[ProjectOut]
    next_cursor: str | None = Field(
        serialization_alias="nextCursor",
        description="Pass as `cursor` for the next page; null on the last page.",
    )


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: CleanText | None = Field(
        default=None, max_length=100,
        description="An id made on the device (a UUID), so a retry never makes two.",
    )
    title: CleanText = Field(min_length=1, max_length=TITLE_MAX)
    brief: BriefBody = None


class ProjectChangeIn(BaseModel):
    """A new title, a new brief, or both; what is left out stays as it is."""

    model_config = ConfigDict(extra="ignore")

    title: CleanText | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    brief: BriefBody = None


def checked_title(title: str | None) -> str:
    """The title without its outer spaces; 422 when nothing is left."""
    cleaned = (title or "").strip()
    if not cleaned:
        raise errors.InvalidRequest("Give the project a name with some words in it.")
    return cleaned


def checked_brief(raw: dict[str, Any] | None) -> Brief:
    """The brief in a request, checked against the brief's schema; 422 saying where not.

    Item texts are kept exactly as sent, markup and all: the web app shows them as text.
    """
    if raw is None:
        raise errors.InvalidRequest(
            "Send the brief as an object, or leave it out to keep the one the project has."
        )
    try:
        return Brief.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(
            str(part) if isinstance(part, int) or _NAME.fullmatch(part) else "?"
            for part in problem["loc"]
        )
        # pydantic's own words ("String should have at most 600 characters"), which name
        # the rule, never the value.
        raise errors.InvalidRequest(
            f"The brief doesn't fit the brief's shape at {where or 'the top'}: "
            f"{problem['msg']}. Send the brief as Parley gave it, or leave it out."
        ) from None


@router.get("")
async def list_projects(
    store: StoreDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 20,
    cursor: Annotated[CleanText | None, Query(max_length=200)] = None,
) -> ProjectPageOut:
    """The owner's projects, most recently changed first, a page at a time."""
    page = await store.list_projects(owner, limit=limit, cursor=cursor or None)
    return ProjectPageOut(
        projects=[ProjectOut.of(p) for p in page.projects], next_cursor=page.next_cursor
    )


@router.post("", status_code=201)
async def create_project(body: ProjectIn, store: StoreDep, owner: OwnerDep) -> ProjectOut:
    """Start a project (its brief empty unless one is sent).

    An `id` the owner already has answers that project as it is.
    """
    title = checked_title(body.title)
    brief = checked_brief(body.brief) if body.brief is not None else None
    project = await store.create_project(owner, title, brief, project_id=body.id)
    return ProjectOut.of(project)


@router.get("/{project_id}")
async def get_project(project_id: str, store: StoreDep, owner: OwnerDep) -> ProjectOut:
    """One project, with its brief and its conversations' ids."""
    return ProjectOut.of(await store.get_project(owner, project_id))


@router.patch("/{project_id}")
async def change_project(
    project_id: str, body: ProjectChangeIn, store: StoreDep, owner: OwnerDep
) -> ProjectOut:
    """Rename a project, replace its brief, or both."""
    given = body.model_fields_set
    if not given & {"title", "brief"}:
        raise errors.InvalidRequest("Send a new title or a new brief for the project.")
    title = checked_title(body.title) if "title" in given else None
    brief = checked_brief(body.brief) if "brief" in given else None
    project = await store.update_project(owner, project_id, title=title, brief=brief)
    return ProjectOut.of(project)


@router.delete("/{project_id}", status_code=204, response_class=Response)
async def delete_project(project_id: str, store: StoreDep, owner: OwnerDep) -> Response:
    """Delete a project and its brief. Its conversations are kept, in no project."""
    await store.delete_project(owner, project_id)
    return Response(status_code=204)
