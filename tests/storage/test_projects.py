"""Projects in HistoryStore on SQLite and PostgreSQL: ownership, briefs, paging, caps, and
what deleting a project does to its conversations."""

from __future__ import annotations

import secrets
import uuid

import pytest
from sqlalchemy import update

from parley import errors
from parley.brief.schema import MAX_BYTES, Brief
from parley.storage.models import Project
from parley.storage.projects import PROJECT_NOT_FOUND, ProjectInfo
from parley.storage.repository import HistoryStore

HTML = '<script>alert("hi")</script><b>bold</b> & <img src=x onerror=alert(1)>'


def new_owner() -> str:
    return secrets.token_hex(32)


def brief(*problems: str, title: str = "Student budgeting onboarding") -> Brief:
    return Brief.model_validate({
        "title": title,
        "sections": {"problem": [{"text": text, "turn": n} for n, text in enumerate(problems)],
                     "openQuestions": [{"text": "Who pays?", "turn": None}]},
        "conflicts": [{"decision": "No sign-up wall", "turn": 7, "note": "asks for email"}],
    })


async def test_a_project_round_trips_with_its_brief_as_the_wire_spells_it(
    store: HistoryStore,
) -> None:
    owner = new_owner()
    made = await store.create_project(owner, "  Budget   app ", brief("Sign-up is slow", HTML))
    assert made.title == "Budget app"
    assert made.session_ids == ()
    assert made.created_at == made.updated_at
    read = await store.get_project(owner, made.id)
    assert read == made
    # camelCase, every section present, and HTML kept as the text it is.
    assert read.brief == brief("Sign-up is slow", HTML).wire()
    assert read.brief["sections"]["problem"][1]["text"] == HTML
    assert read.brief["sections"]["openQuestions"] == [{"text": "Who pays?", "turn": None}]


async def test_a_new_project_without_a_brief_has_an_empty_one(store: HistoryStore) -> None:
    made = await store.create_project(new_owner(), "Empty")
    assert Brief.model_validate(made.brief).is_empty()
    assert made.brief == Brief().wire()


async def test_a_proposed_id_is_taken_once_and_a_retry_changes_nothing(
    store: HistoryStore,
) -> None:
    owner, pid = new_owner(), str(uuid.uuid4())
    made = await store.create_project(owner, "Pricing", project_id=pid)
    assert made.id == pid
    again = await store.create_project(owner, "Other", brief("x"), project_id=pid.upper())
    assert again == made
    assert len((await store.list_projects(owner)).projects) == 1


async def test_changing_the_title_keeps_the_brief_and_the_reverse(store: HistoryStore) -> None:
    owner = new_owner()
    made = await store.create_project(owner, "Budget app", brief("first"))
    renamed = await store.update_project(owner, made.id, title="Budget app v2")
    assert (renamed.title, renamed.brief) == ("Budget app v2", made.brief)
    assert renamed.updated_at >= made.updated_at
    rebriefed = await store.update_project(owner, made.id, brief=brief("second"))
    assert (rebriefed.title, rebriefed.brief) == ("Budget app v2", brief("second").wire())
    assert await store.get_project(owner, made.id) == rebriefed


async def test_a_brief_past_the_cap_is_413_and_nothing_changes(store: HistoryStore) -> None:
    owner = new_owner()
    made = await store.create_project(owner, "Budget app", brief("kept"))
    # Within the schema (40 items of 600 characters a section) yet past 64 KB.
    big = Brief.model_validate({"sections": {
        key: [{"text": "x" * 600, "turn": None}] * 40 for key in ("problem", "ideas", "decisions")
    }})
    assert big.size() > MAX_BYTES
    with pytest.raises(errors.PayloadTooLarge, match="64 KB"):
        await store.update_project(owner, made.id, brief=big)
    with pytest.raises(errors.PayloadTooLarge):
        await store.create_project(owner, "Too big", big)
    assert (await store.get_project(owner, made.id)).brief == brief("kept").wire()
    assert len((await store.list_projects(owner)).projects) == 1


async def test_another_owner_never_sees_or_changes_a_project(store: HistoryStore) -> None:
    alice, mallory = new_owner(), new_owner()
    project = await store.create_project(alice, "Secret roadmap", brief("private"))
    theirs = await store.create_session(mallory)
    attempts = [
        store.get_project(mallory, project.id),
        store.update_project(mallory, project.id, title="pwned"),
        store.update_project(mallory, project.id, brief=brief("pwned")),
        store.delete_project(mallory, project.id),
        store.create_project(mallory, "pwned", project_id=project.id),
        store.create_session(mallory, project_id=project.id),
        store.update_session(mallory, theirs.id, project_id=project.id),
    ]
    for attempt in attempts:
        with pytest.raises(errors.NotFound) as caught:
            await attempt
        # Exactly what a missing project says: nothing tells the two apart.
        assert caught.value.message == PROJECT_NOT_FOUND

    assert await store.get_project(alice, project.id) == project
    assert (await store.list_projects(mallory)).projects == ()
    assert (await store.get_session(mallory, theirs.id)).session.project_id is None


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "1", "../etc/passwd", "\x00", "\ud800"])
async def test_malformed_project_ids_are_simply_not_found(store: HistoryStore, bad: str) -> None:
    owner = new_owner()
    session = await store.create_session(owner)
    for attempt in (
        store.get_project(owner, bad),
        store.update_project(owner, bad, title="t"),
        store.delete_project(owner, bad),
        store.create_project(owner, "t", project_id=bad),
        store.create_session(owner, project_id=bad),
        store.update_session(owner, session.id, project_id=bad),
    ):
        with pytest.raises(errors.NotFound):
            await attempt


async def test_paging_walks_every_project_once_newest_first(store: HistoryStore) -> None:
    owner = new_owner()
    made = [(await store.create_project(owner, f"project {n}")).id for n in range(12)]
    await store.create_project(new_owner(), "someone else's")

    seen: list[ProjectInfo] = []
    cursor: str | None = None
    for _ in range(5):  # bounded
        page = await store.list_projects(owner, limit=5, cursor=cursor)
        seen.extend(page.projects)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [p.id for p in seen] == list(reversed(made))


async def test_paging_breaks_timestamp_ties_by_id(store: HistoryStore) -> None:
    owner = new_owner()
    for n in range(7):
        await store.create_project(owner, f"p{n}")
    async with store.engine.begin() as connection:
        first = (await store.list_projects(owner, limit=1)).projects[0].updated_at
        await connection.execute(update(Project).values(updated_at=first))
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(7):
        page = await store.list_projects(owner, limit=2, cursor=cursor)
        ids.extend(p.id for p in page.projects)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(ids) == len(set(ids)) == 7


@pytest.mark.parametrize("cursor", ["garbage", "", "Zm9v", "\x00"])
async def test_a_bad_cursor_asks_to_reload_the_projects(store: HistoryStore, cursor: str) -> None:
    with pytest.raises(errors.InvalidRequest, match=r"projects.*Reload"):
        await store.list_projects(new_owner(), cursor=cursor)


async def test_the_per_owner_cap_says_what_to_do(store: HistoryStore) -> None:
    capped = HistoryStore(store.engine, max_projects=2)
    owner = new_owner()
    first = await capped.create_project(owner, "one")
    await capped.create_project(owner, "two")
    with pytest.raises(errors.HistoryFull, match=r"at most 2 of your projects\. Delete"):
        await capped.create_project(owner, "three")
    # A retry of one already kept is not a new project.
    assert await capped.create_project(owner, "one", project_id=first.id) == first
    await capped.create_project(new_owner(), "another owner has room")
    await capped.delete_project(owner, first.id)
    await capped.create_project(owner, "three")


async def test_sessions_join_move_and_leave_projects(store: HistoryStore) -> None:
    owner = new_owner()
    budget = await store.create_project(owner, "Budget app")
    pricing = await store.create_project(owner, "Pricing")
    first = await store.create_session(owner, title="first", project_id=budget.id)
    assert first.project_id == budget.id
    second = await store.create_session(owner, project_id=budget.id)
    await store.append_message(owner, first.id, "user", "newer activity")
    loose = await store.create_session(owner)
    assert loose.project_id is None

    # Newest activity first.
    assert (await store.get_project(owner, budget.id)).session_ids == (first.id, second.id)

    moved = await store.update_session(owner, second.id, project_id=pricing.id)
    assert (moved.project_id, moved.title) == (pricing.id, None)
    renamed = await store.update_session(owner, second.id, title="renamed")
    assert (renamed.project_id, renamed.title) == (pricing.id, "renamed")
    assert (await store.rename(owner, second.id, "again")).project_id == pricing.id
    detached = await store.update_session(owner, first.id, project_id=None)
    assert detached.project_id is None
    assert (await store.get_session(owner, first.id)).session.title == "first"

    listed = {p.id: p.session_ids for p in (await store.list_projects(owner)).projects}
    assert listed == {budget.id: (), pricing.id: (second.id,)}


async def test_deleting_a_project_keeps_its_conversations_detached(store: HistoryStore) -> None:
    owner = new_owner()
    project = await store.create_project(owner, "Budget app", brief("gone with it"))
    kept = str(uuid.uuid4())
    await store.create_session(owner, session_id=kept, project_id=project.id)
    await store.append_message(owner, kept, "user", "Onboarding feels heavy.")
    await store.append_message(owner, kept, "bot", "What is the first screen?")
    before = (await store.get_session(owner, kept)).session

    await store.delete_project(owner, project.id)
    with pytest.raises(errors.NotFound):
        await store.get_project(owner, project.id)
    with pytest.raises(errors.NotFound):
        await store.delete_project(owner, project.id)
    detail = await store.get_session(owner, kept)
    assert detail.session.project_id is None
    assert detail.session.updated_at == before.updated_at  # still in its place in the list
    assert [m.text for m in detail.messages] == [
        "Onboarding feels heavy.", "What is the first screen?"]


async def test_claim_moves_a_devices_projects_with_its_sessions(store: HistoryStore) -> None:
    device, user = new_owner(), "clerk:user_1"
    project = await store.create_project(device, "From the phone", brief("kept"))
    session = await store.create_session(device, project_id=project.id)
    other = await store.create_project(new_owner(), "someone else's")

    assert await store.claim(device, user) == 1
    mine = await store.get_project(user, project.id)
    assert mine.session_ids == (session.id,)
    assert (await store.get_session(user, session.id)).session.project_id == project.id
    assert (await store.list_projects(device)).projects == ()
    with pytest.raises(errors.NotFound):
        await store.get_project(user, other.id)
