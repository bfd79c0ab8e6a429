"""/api/sessions: server-side conversation history, for its owner only (snake_case JSON,
but for `projectId`, spelt as the contract spells it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from parley import errors
from parley.conversation.persona import Mode
from parley.deps import StoreDep
from parley.routes.identity import IdentityDep, OwnerDep, client_budget
from parley.routes.schemas import Images
from parley.storage.models import TITLE_MAX, Sender
from parley.storage.repository import MessageInfo, SessionInfo, Unchanged
from parley.text import CleanText

router = APIRouter(
    prefix="/api/sessions", tags=["sessions"], dependencies=[Depends(client_budget)]
)

ProjectId = Annotated[
    CleanText | None,
    Field(alias="projectId", max_length=100,
          description="One of the owner's projects (`/api/projects`); null: in no project."),
]


class SessionOut(BaseModel):
    id: str
    title: str | None
    mode: str
    started_at: datetime
    ended_at: datetime | None
    updated_at: datetime
    project_id: str | None = Field(serialization_alias="projectId")

    @classmethod
    def of(cls, info: SessionInfo) -> SessionOut:
        return cls(
            id=info.id, title=info.title, mode=info.mode, started_at=info.started_at,
            ended_at=info.ended_at, updated_at=info.updated_at, project_id=info.project_id,
        )


class MessageOut(BaseModel):
    id: str
    sender: Sender
    text: str
    interrupted: bool
    created_at: datetime
    images: list[str] = Field(
        description="The person's pictures as kept: re-encoded data URLs, no metadata."
    )

    @classmethod
    def of(cls, info: MessageInfo) -> MessageOut:
        return cls(
            id=info.id, sender=info.sender, text=info.text, interrupted=info.interrupted,
            created_at=info.created_at, images=list(info.images),
        )


class SessionWithMessagesOut(SessionOut):
    messages: list[MessageOut]
    next_before: str | None = Field(
        default=None,
        description="Pass as `before` for the older messages; null when there are none.",
    )


# Messages per page of a conversation: a long one is not re-sent whole on every read.
PAGE_MESSAGES = 200


class SessionPageOut(BaseModel):
    sessions: list[SessionOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: CleanText | None = Field(
        default=None, max_length=100,
        description="An id made on the device (a UUID), so a retry never makes two.",
    )
    title: CleanText | None = Field(default=None, max_length=TITLE_MAX)
    mode: Mode = "sparring"
    project_id: ProjectId = None


class SessionChangeIn(BaseModel):
    """A new title, a move to another project (null: out of any), or both."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    title: CleanText | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    project_id: ProjectId = None


# Generous: a realtime answer is spoken, so it is short, but a transcript is never cut.
MESSAGE_TEXT_MAX = 20_000


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: Sender
    text: CleanText = Field(min_length=1, max_length=MESSAGE_TEXT_MAX)
    interrupted: bool = False
    mode: Mode = Field(
        default="sparring", description="The conversation's mode, used if this creates it."
    )
    images: Images = Field(description="The person's pictures with this turn (data URLs: "
                           "PNG, JPEG, WebP or HEIC; at most 4, 5 MB each), kept re-encoded.")


class DeletedOut(BaseModel):
    deleted: int


class ClaimedOut(BaseModel):
    claimed: int


@router.get("")
async def list_sessions(
    store: StoreDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[CleanText | None, Query(max_length=200)] = None,
) -> SessionPageOut:
    """The owner's conversations, most recently active first, a page at a time."""
    page = await store.list_sessions(owner, limit=limit, cursor=cursor or None)
    return SessionPageOut(
        sessions=[SessionOut.of(s) for s in page.sessions], next_cursor=page.next_cursor
    )


@router.post("", status_code=201)
async def create_session(body: SessionIn, store: StoreDep, owner: OwnerDep) -> SessionOut:
    """Start a conversation, in one of the owner's projects if `projectId` names one.

    An `id` the owner already has answers that conversation as it is.
    """
    session = await store.create_session(
        owner, title=body.title, mode=body.mode, session_id=body.id,
        project_id=body.project_id,
    )
    return SessionOut.of(session)


@router.delete("")
async def delete_all_sessions(store: StoreDep, owner: OwnerDep) -> DeletedOut:
    """Delete every conversation the owner keeps on the server."""
    return DeletedOut(deleted=await store.delete_all(owner))


@router.post("/claim")
async def claim_device_sessions(store: StoreDep, identity: IdentityDep) -> ClaimedOut:
    """Move this device's conversations to the signed-in account."""
    if identity.user is None:
        raise errors.Unauthenticated(
            "Sign in first: this device's conversations move to the account you sign in with."
        )
    if identity.device is None:
        raise errors.InvalidRequest(
            "This request did not say which device's conversations to move. "
            "Send it from the device that has them."
        )
    return ClaimedOut(claimed=await store.claim(identity.device, identity.user))


@router.get("/{session_id}")
async def get_session(
    session_id: str,
    store: StoreDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_MESSAGES,
    before: Annotated[CleanText | None, Query(max_length=100)] = None,
) -> SessionWithMessagesOut:
    """One conversation with its newest messages (oldest first); `before` pages back."""
    detail = await store.get_session(owner, session_id, limit=limit, before=before or None)
    return SessionWithMessagesOut(
        **SessionOut.of(detail.session).model_dump(),
        messages=[MessageOut.of(m) for m in detail.messages],
        next_before=detail.next_before,
    )


@router.patch("/{session_id}")
async def change_session(
    session_id: str, body: SessionChangeIn, store: StoreDep, owner: OwnerDep
) -> SessionOut:
    """Give a conversation a new title, move it to another project (`projectId`; null takes
    it out of any), or both."""
    given = body.model_fields_set
    if not given & {"title", "project_id"}:
        raise errors.InvalidRequest(
            "Send a new title, or a projectId to move the conversation (null takes it out of "
            "its project)."
        )
    title = None
    if "title" in given:
        title = (body.title or "").strip()
        if not title:
            raise errors.InvalidRequest("Give the conversation a title with some words in it.")
    project: str | Unchanged | None = (
        body.project_id if "project_id" in given else Unchanged.KEEP
    )
    return SessionOut.of(
        await store.update_session(owner, session_id, title=title, project_id=project)
    )


@router.post("/{session_id}/messages", status_code=201)
async def add_message(
    session_id: str, body: MessageIn, store: StoreDep, owner: OwnerDep
) -> MessageOut:
    """Keep a turn heard outside /api/conversation (a realtime call's transcripts).

    Creates the conversation on its first message, as a turn through /api/conversation does.
    """
    text = body.text.strip()
    if not text:
        raise errors.InvalidRequest("Send the words of the turn: the text was empty.")
    images: tuple[str, ...] = ()
    if body.images:
        if body.sender != "user":
            raise errors.InvalidRequest(
                "Only the person's turns carry pictures. Send Parley's reply without them."
            )
        images = await kept_pictures(body.images)
    message = await store.append_message(
        owner, session_id, body.sender, text, interrupted=body.interrupted, mode=body.mode,
        images=images,
    )
    return MessageOut.of(message)


async def kept_pictures(images: list[str]) -> tuple[str, ...]:
    """The pictures as the server keeps them: checked as a turn's are, then re-encoded, so
    nothing of what was sent (its metadata: GPS, camera) is kept."""
    # Imported here: Pillow loads only for the requests that bring pictures.
    from parley.images import prepare_request

    (prepared,) = await prepare_request([images])
    return tuple(picture.data_url for picture in prepared)


@router.delete("/{session_id}", status_code=204, response_class=Response)
async def delete_session(session_id: str, store: StoreDep, owner: OwnerDep) -> Response:
    """Delete one conversation and its messages."""
    await store.delete(owner, session_id)
    return Response(status_code=204)
