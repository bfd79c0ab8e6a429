"""HistoryStore on SQLite and PostgreSQL: ownership, ordering, pagination, deletes, claims."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import timedelta

import anyio
import pytest
from sqlalchemy import func, select, update

from parley import errors
from parley.storage.models import ConversationSession, Message
from parley.storage.repository import HistoryStore, SessionInfo, default_title


def new_owner() -> str:
    return secrets.token_hex(32)


async def count_rows(store: HistoryStore, model: type[Message] | type[ConversationSession]) -> int:
    async with store.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(model))).scalar_one()


async def test_a_conversation_round_trips(store: HistoryStore) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    await store.append_message(owner, sid, "user", "Our onboarding feels heavy.", mode="critique")
    await store.append_message(owner, sid, "bot", "What is the first screen?")
    await store.append_message(owner, sid, "bot", "Could step one", interrupted=True)

    detail = await store.get_session(owner, sid)
    assert detail.session.id == sid
    assert detail.session.mode == "critique"
    assert detail.session.title == "Our onboarding feels heavy."
    assert [(m.sender, m.text, m.interrupted) for m in detail.messages] == [
        ("user", "Our onboarding feels heavy.", False),
        ("bot", "What is the first screen?", False),
        ("bot", "Could step one", True),
    ]
    times = [m.created_at for m in detail.messages]
    assert times == sorted(times) and len(set(times)) == 3
    assert all(t.utcoffset() == timedelta(0) for t in times)
    assert detail.session.updated_at == times[-1]


async def test_only_the_first_user_message_names_the_session(store: HistoryStore) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    await store.append_message(owner, sid, "bot", "Hi! What are we designing?")
    assert (await store.get_session(owner, sid)).session.title is None
    await store.append_message(owner, sid, "user", "A checkout  flow\nfor groceries")
    await store.append_message(owner, sid, "user", "Something else entirely")
    assert (await store.get_session(owner, sid)).session.title == "A checkout flow for groceries"


def test_default_title_cuts_on_a_word_boundary() -> None:
    text = "I keep going back and forth on whether the settings page should be a sheet or a page"
    title = default_title(text)
    assert title == "I keep going back and forth on whether the settings page…"
    assert len(title) <= 61
    assert default_title("short one") == "short one"
    assert default_title("x" * 100) == "x" * 60 + "…"


async def test_another_owner_never_sees_or_changes_a_session(store: HistoryStore) -> None:
    alice, mallory, sid = new_owner(), new_owner(), str(uuid.uuid4())
    await store.append_message(alice, sid, "user", "private design notes")

    attempts = [
        store.get_session(mallory, sid),
        store.rename(mallory, sid, "pwned"),
        store.delete(mallory, sid),
        store.append_message(mallory, sid, "user", "injected"),
        store.create_session(mallory, session_id=sid),
    ]
    for attempt in attempts:
        with pytest.raises(errors.NotFound) as caught:
            await attempt
        # Exactly what a missing session says: nothing tells the two apart.
        assert caught.value.message == (await _missing_message(store, mallory))

    detail = await store.get_session(alice, sid)
    assert detail.session.title == "private design notes"
    assert [m.text for m in detail.messages] == ["private design notes"]
    assert (await store.list_sessions(mallory)).sessions == ()


async def _missing_message(store: HistoryStore, owner: str) -> str:
    with pytest.raises(errors.NotFound) as caught:
        await store.get_session(owner, str(uuid.uuid4()))
    return caught.value.message


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "1", "../etc/passwd", "\x00", "\ud800"])
async def test_malformed_ids_are_simply_not_found(store: HistoryStore, bad: str) -> None:
    owner = new_owner()
    for attempt in (
        store.get_session(owner, bad),
        store.rename(owner, bad, "t"),
        store.delete(owner, bad),
        store.append_message(owner, bad, "user", "hi"),
    ):
        with pytest.raises(errors.NotFound):
            await attempt


async def test_create_session_accepts_a_proposed_id_once(store: HistoryStore) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    created = await store.create_session(owner, title="Pricing page", mode="brainstorm",
                                         session_id=sid)
    assert (created.id, created.title, created.mode) == (sid, "Pricing page", "brainstorm")
    again = await store.create_session(owner, title="Other", session_id=sid.upper())
    assert again == created  # a retry from an offline client changes nothing
    generated = await store.create_session(owner)
    assert uuid.UUID(generated.id).version == 4
    assert generated.title is None


async def test_rename_keeps_the_sessions_place(store: HistoryStore) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    await store.append_message(owner, sid, "user", "first")
    before = (await store.get_session(owner, sid)).session
    renamed = await store.rename(owner, sid, "  A   better\ttitle ")
    assert renamed.title == "A better title"
    assert renamed.updated_at == before.updated_at


async def test_unstorable_characters_in_replies_are_replaced_not_fatal(
    store: HistoryStore,
) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    await store.append_message(owner, sid, "bot", "nul\x00 and lone \ud800 surrogate")
    await store.create_session(owner, title="bad\x00title")
    detail = await store.get_session(owner, sid)
    assert detail.messages[0].text == "nul\ufffd and lone \ufffd surrogate"


async def test_pagination_walks_every_session_once_newest_first(store: HistoryStore) -> None:
    owner, other = new_owner(), new_owner()
    made = []
    for n in range(25):
        sid = str(uuid.uuid4())
        await store.append_message(owner, sid, "user", f"conversation {n}")
        made.append(sid)
    await store.append_message(other, str(uuid.uuid4()), "user", "not yours")

    seen: list[SessionInfo] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await store.list_sessions(owner, limit=10, cursor=cursor)
        seen.extend(page.sessions)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert [s.id for s in seen] == list(reversed(made))
    stamps = [s.updated_at for s in seen]
    assert stamps == sorted(stamps, reverse=True)


async def test_pagination_breaks_timestamp_ties_by_id(store: HistoryStore) -> None:
    owner = new_owner()
    for _ in range(7):
        await store.create_session(owner)
    # Force every session onto the same instant: only the id orders them.
    async with store.engine.begin() as connection:
        first = (await store.list_sessions(owner, limit=1)).sessions[0].updated_at
        await connection.execute(update(ConversationSession).values(updated_at=first))
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(7):
        page = await store.list_sessions(owner, limit=2, cursor=cursor)
        ids.extend(s.id for s in page.sessions)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(ids) == len(set(ids)) == 7


@pytest.mark.parametrize("cursor", ["garbage", "", "Zm9v", "\x00"])
async def test_a_bad_cursor_asks_to_reload(store: HistoryStore, cursor: str) -> None:
    with pytest.raises(errors.InvalidRequest, match="Reload"):
        await store.list_sessions(new_owner(), cursor=cursor)


async def test_delete_removes_the_session_and_its_messages(store: HistoryStore) -> None:
    owner, keep, drop = new_owner(), str(uuid.uuid4()), str(uuid.uuid4())
    for sid in (keep, drop):
        await store.append_message(owner, sid, "user", "hello")
        await store.append_message(owner, sid, "bot", "hi")
    await store.delete(owner, drop)
    with pytest.raises(errors.NotFound):
        await store.get_session(owner, drop)
    with pytest.raises(errors.NotFound):
        await store.delete(owner, drop)
    # The database cascaded (SQLite too: foreign keys are on).
    assert await count_rows(store, Message) == 2
    assert len((await store.get_session(owner, keep)).messages) == 2


async def test_delete_all_touches_only_the_owner(store: HistoryStore) -> None:
    owner, other = new_owner(), new_owner()
    for _ in range(3):
        await store.append_message(owner, str(uuid.uuid4()), "user", "mine")
    await store.append_message(other, str(uuid.uuid4()), "user", "theirs")
    assert await store.delete_all(owner) == 3
    assert await store.delete_all(owner) == 0
    assert (await store.list_sessions(owner)).sessions == ()
    assert len((await store.list_sessions(other)).sessions) == 1
    assert await count_rows(store, Message) == 1


async def test_claim_moves_a_devices_sessions_to_the_user(store: HistoryStore) -> None:
    device, other_device, user = new_owner(), new_owner(), "clerk:user_1"
    ids = [str(uuid.uuid4()) for _ in range(2)]
    for sid in ids:
        await store.append_message(device, sid, "user", "on my phone")
    await store.append_message(other_device, str(uuid.uuid4()), "user", "someone else")

    assert await store.claim(device, user) == 2
    assert await store.claim(device, user) == 0
    assert {s.id for s in (await store.list_sessions(user)).sessions} == set(ids)
    assert (await store.list_sessions(device)).sessions == ()
    assert len((await store.list_sessions(other_device)).sessions) == 1


async def test_concurrent_first_turns_make_one_session(store: HistoryStore) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    await asyncio.gather(
        *(store.append_message(owner, sid, "user", f"turn {n}") for n in range(5))
    )
    detail = await store.get_session(owner, sid)
    assert len(detail.messages) == 5
    assert len({m.created_at for m in detail.messages}) == 5
    assert await count_rows(store, ConversationSession) == 1


async def test_a_shielded_append_survives_the_requests_cancellation(
    store: HistoryStore,
) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())

    async def request_handler() -> None:
        # What a streaming route does when the client disconnects: it is cancelled
        # while it waits for the write.
        await store.append_message_shielded(owner, sid, "bot", "Half a repl", interrupted=True)

    handler = asyncio.create_task(request_handler())
    await asyncio.sleep(0)  # the handler is now waiting for the write
    handler.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handler
    await store.aclose()  # waits for the shielded write before closing the engine

    reopened = HistoryStore(store.engine)
    detail = await reopened.get_session(owner, sid)
    assert [(m.text, m.interrupted) for m in detail.messages] == [("Half a repl", True)]
    await reopened.aclose()


async def test_a_shielded_append_from_an_already_cancelled_scope_is_kept(
    store: HistoryStore,
) -> None:
    # Starlette cancels a streaming response's scope when the client goes away; the
    # route's cleanup then runs inside that cancelled scope.
    owner, sid = new_owner(), str(uuid.uuid4())
    with anyio.CancelScope() as scope:
        scope.cancel()
        await store.append_message_shielded(owner, sid, "bot", "Cut off", interrupted=True)
    assert scope.cancelled_caught
    await store.aclose()
    reopened = HistoryStore(store.engine)
    assert len((await reopened.get_session(owner, sid)).messages) == 1
    await reopened.aclose()


PICTURE = "data:image/jpeg;base64," + "A" * 1_000  # as stored: already re-encoded


async def test_a_persons_pictures_are_kept_with_their_message(store: HistoryStore) -> None:
    owner, sid = new_owner(), str(uuid.uuid4())
    other = PICTURE.replace("A", "B")
    await store.append_message(owner, sid, "user", "This sign-up screen?", images=[PICTURE, other])
    await store.append_message(owner, sid, "bot", "The form is long.")
    messages = (await store.get_session(owner, sid)).messages
    assert [m.images for m in messages] == [(PICTURE, other), ()]


async def test_pictures_count_against_the_owners_picture_bytes(store: HistoryStore) -> None:
    capped = HistoryStore(store.engine, max_image_bytes=3 * len(PICTURE))
    owner, first, second = new_owner(), str(uuid.uuid4()), str(uuid.uuid4())
    await capped.append_message(owner, first, "user", "one", images=[PICTURE, PICTURE])
    # Another conversation of the same owner shares the allowance.
    with pytest.raises(errors.HistoryFull, match="MB of your pictures"):
        await capped.append_message(owner, second, "user", "two", images=[PICTURE, PICTURE])
    # Nothing half-stored: the refused turn did not make its conversation.
    with pytest.raises(errors.NotFound):
        await capped.get_session(owner, second)
    # Words alone still fit, and so does another owner's picture.
    await capped.append_message(owner, second, "user", "words only")
    await capped.append_message(new_owner(), str(uuid.uuid4()), "user", "x",
                                images=[PICTURE])
    await capped.append_message(owner, second, "user", "one more fits", images=[PICTURE])
    # Deleting a conversation gives its pictures' room back.
    await capped.delete(owner, first)
    await capped.append_message(owner, second, "user", "room again", images=[PICTURE, PICTURE])
