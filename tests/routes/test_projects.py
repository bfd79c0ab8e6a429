"""/api/projects on SQLite and PostgreSQL: shapes, ownership (IDOR), briefs checked and kept
as text, paging, caps, and what deleting a project leaves of its conversations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from parley.app import create_app
from parley.brief.schema import MAX_BYTES
from parley.config import Settings
from tests.errors import assert_error
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tcp_proxy import TcpProxy
from tests.live import device
from tests.storage.databases import (  # noqa: F401 (fixtures)
    create_postgres_database,
    database_url,
    drop_postgres_database,
    postgres_database,
)

PROJECT_KEYS = {"id", "title", "brief", "sessionIds", "createdAt", "updatedAt"}
SECTIONS = ("problem", "audience", "constraints", "decisions", "ideas", "openQuestions",
            "nextSteps")
EMPTY_BRIEF: dict[str, Any] = {
    "title": "", "sections": {key: [] for key in SECTIONS}, "conflicts": [],
}
SCRIPT = '<script>fetch("/api/sessions").then(r => r.text()).then(alert)</script>'
MARKUP = '<img src=x onerror="alert(1)"> <b>bold</b> &amp; </textarea>'


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"local_model": "off", "local_stt": "off", "local_tts": "off"}
    return Settings(**(values | overrides))


def a_brief(*problems: str, title: str = "Student budgeting onboarding") -> dict[str, Any]:
    sections: dict[str, list[dict[str, Any]]] = {key: [] for key in SECTIONS}
    sections["problem"] = [{"text": text, "turn": n} for n, text in enumerate(problems)]
    sections["nextSteps"] = [{"text": "Test the sign-up with five students", "turn": None}]
    return {"title": title, "sections": sections,
            "conflicts": [{"decision": "No sign-up wall", "turn": 7, "note": "asks for email",
                           "decisionTurn": 2}]}


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    app = create_app(settings(database_url=database_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as http,
    ):
        yield http


async def create(client: httpx.AsyncClient, who: dict[str, str], title: str = "Budget app",
                 **body: Any) -> dict[str, Any]:
    made = await client.post("/api/projects", json={"title": title, **body}, headers=who)
    assert made.status_code == 201, made.text
    project: dict[str, Any] = made.json()
    return project


async def test_without_a_database_every_endpoint_says_storage_is_off() -> None:
    app = create_app(settings())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as http,
    ):
        pid = str(uuid.uuid4())
        for method, path, body in [
            ("GET", "/api/projects", None),
            ("POST", "/api/projects", {"title": "x"}),
            ("GET", f"/api/projects/{pid}", None),
            ("PATCH", f"/api/projects/{pid}", {"title": "x"}),
            ("DELETE", f"/api/projects/{pid}", None),
        ]:
            response = await http.request(method, path, json=body, headers=device())
            assert_error(response, 404, "storage_disabled")


async def test_a_project_reads_back_in_the_contracts_shape(client: httpx.AsyncClient) -> None:
    me = device()
    made = await create(client, me, "  Budget   app ")
    assert set(made) == PROJECT_KEYS
    assert made["title"] == "Budget app"
    assert made["brief"] == EMPTY_BRIEF
    assert made["sessionIds"] == []
    assert made["createdAt"] == made["updatedAt"]

    read = await client.get(f"/api/projects/{made['id']}", headers=me)
    assert read.status_code == 200
    assert read.json() == made
    listed = (await client.get("/api/projects", headers=me)).json()
    assert listed == {"projects": [made], "nextCursor": None}


async def test_a_brief_round_trips_and_markup_stays_text(client: httpx.AsyncClient) -> None:
    me = device()
    brief = a_brief("Sign-up asks for too much", SCRIPT, title=MARKUP)
    made = await create(client, me, SCRIPT, brief=brief)
    # Exactly as sent: nothing escaped, nothing stripped. The web app shows it as text.
    assert made["brief"] == brief
    assert made["title"] == SCRIPT
    read = await client.get(f"/api/projects/{made['id']}", headers=me)
    assert read.headers["content-type"] == "application/json"
    assert read.json()["brief"]["sections"]["problem"][1]["text"] == SCRIPT
    assert read.json()["brief"]["title"] == MARKUP


@pytest.mark.parametrize(
    ("brief", "where"),
    [
        ({"title": "x", "sectons": {}}, "sectons"),
        ({"sections": {"problem": [{"text": "x" * 601}]}}, "sections.problem.0.text"),
        ({"sections": {"problem": [{"text": ""}]}}, "sections.problem.0.text"),
        ({"sections": {"problem": [{"text": "ok", "turn": -1}]}}, "sections.problem.0.turn"),
        ({"sections": {"problem": "not a list"}}, "sections.problem"),
        ({"sections": {"moodboard": []}}, "sections.moodboard"),
        ({"sections": {"ideas": [{"text": "x"}] * 41}}, "sections.ideas"),
        ({"title": 42}, "title"),
        ({"conflicts": [{"note": "no decision"}]}, "conflicts.0.decision"),
    ],
    ids=["misspelt", "long-item", "empty-item", "negative-turn", "not-a-list", "unknown-section",
         "41-items", "number-title", "conflict-without-decision"],
)
async def test_a_brief_off_the_schema_is_422_saying_where(
    client: httpx.AsyncClient, brief: dict[str, Any], where: str
) -> None:
    me = device()
    created = await client.post("/api/projects", json={"title": "t", "brief": brief}, headers=me)
    message = assert_error(created, 422, "invalid_request")["message"]
    assert where in message and "brief" in message
    made = await create(client, me, brief=a_brief("kept"))
    patched = await client.patch(f"/api/projects/{made['id']}", json={"brief": brief},
                                 headers=me)
    assert_error(patched, 422, "invalid_request")
    read = (await client.get(f"/api/projects/{made['id']}", headers=me)).json()
    assert read["brief"] == a_brief("kept")
    assert len((await client.get("/api/projects", headers=me)).json()["projects"]) == 1


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "t", "brief": {"\\ud800": 1}}',
        '{"title": "t", "brief": {"title": "nul \\u0000"}}',
        '{"title": "t", "brief": {"sections": {"problem": [{"text": "lone \\udfff"}]}}}',
        '{"title": "t", "brief": "a string"}',
        '{"title": "t", "brief": [1, 2]}',
        '{"title": "nul \\u0000 byte"}',
        '{"title": "   "}',
        '{"title": ""}',
        '{"title": "' + "x" * 201 + '"}',
        '{"brief": {}}',
        '{"title": "t", "id": 42}',
        '{"title": "unterminated',
    ],
)
async def test_bad_projects_are_4xx_never_500_and_store_nothing(
    client: httpx.AsyncClient, raw: str
) -> None:
    me = device()
    response = await client.post(
        "/api/projects", content=raw.encode("utf-8", "surrogatepass"),
        headers=me | {"Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, raw
    assert response.json()["error"]["message"]
    assert (await client.get("/api/projects", headers=me)).json()["projects"] == []


async def test_a_brief_past_64_kb_is_413_and_nothing_changes(client: httpx.AsyncClient) -> None:
    me = device()
    made = await create(client, me, brief=a_brief("kept"))
    big = {"sections": {key: [{"text": "x" * 600, "turn": None}] * 40
                        for key in ("problem", "ideas", "decisions")}}
    patched = await client.patch(f"/api/projects/{made['id']}", json={"brief": big}, headers=me)
    assert len(patched.request.content) > MAX_BYTES
    assert "64 KB" in assert_error(patched, 413, "payload_too_large")["message"]
    created = await client.post("/api/projects", json={"title": "big", "brief": big}, headers=me)
    assert_error(created, 413, "payload_too_large")
    listed = (await client.get("/api/projects", headers=me)).json()["projects"]
    assert [p["brief"] for p in listed] == [a_brief("kept")]


async def test_patch_changes_only_what_it_names(client: httpx.AsyncClient) -> None:
    me = device()
    made = await create(client, me, brief=a_brief("first"))
    url = f"/api/projects/{made['id']}"

    renamed = (await client.patch(url, json={"title": " Budget v2 "}, headers=me)).json()
    assert (renamed["title"], renamed["brief"]) == ("Budget v2", a_brief("first"))
    assert renamed["updatedAt"] >= made["updatedAt"]
    assert renamed["createdAt"] == made["createdAt"]
    rebriefed = (await client.patch(url, json={"brief": a_brief("second")}, headers=me)).json()
    assert (rebriefed["title"], rebriefed["brief"]) == ("Budget v2", a_brief("second"))

    for body, says in [({}, "new title or a new brief"), ({"name": "x"}, "new title"),
                       ({"title": "  "}, "name with some words"),
                       ({"title": None}, "name with some words"),
                       ({"brief": None}, "leave it out")]:
        refused = await client.patch(url, json=body, headers=me)
        assert says in assert_error(refused, 422, "invalid_request")["message"], body
    assert (await client.get(url, headers=me)).json() == rebriefed


async def test_another_device_gets_404_on_every_endpoint_never_the_data(
    client: httpx.AsyncClient,
) -> None:
    alice, mallory = device(), device()
    project = await create(client, alice, "Secret roadmap", brief=a_brief("private plans"))
    pid, missing = project["id"], str(uuid.uuid4())

    for method, body in [("GET", None), ("PATCH", {"title": "pwned"}),
                         ("PATCH", {"brief": a_brief("pwned")}), ("DELETE", None)]:
        theirs = await client.request(method, f"/api/projects/{pid}", json=body,
                                      headers=mallory)
        nothing = await client.request(method, f"/api/projects/{missing}", json=body,
                                       headers=mallory)
        assert theirs.status_code == 404, method
        # Byte for byte what a missing id answers: ids cannot be probed.
        assert theirs.content == nothing.content
        assert "Secret roadmap" not in theirs.text and "private plans" not in theirs.text

    listed = (await client.get("/api/projects", headers=mallory)).json()
    assert listed == {"projects": [], "nextCursor": None}
    # Nor can Mallory take the id for a project of her own...
    taken = await client.post("/api/projects", json={"id": pid, "title": "mine"},
                              headers=mallory)
    assert_error(taken, 404, "not_found")
    # ...start a conversation in it...
    started = await client.post("/api/sessions", json={"projectId": pid}, headers=mallory)
    assert_error(started, 404, "not_found")
    # ...or move one of hers into it.
    hers = (await client.post("/api/sessions", json={}, headers=mallory)).json()
    moved = await client.patch(f"/api/sessions/{hers['id']}", json={"projectId": pid},
                               headers=mallory)
    assert_error(moved, 404, "not_found")

    assert (await client.get(f"/api/projects/{pid}", headers=alice)).json() == project
    assert (await client.get(f"/api/sessions/{hers['id']}", headers=mallory)).json()[
        "projectId"] is None


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "1", "%00", "00000000-0000-0000-0000-00000000000g"]
)
async def test_malformed_ids_are_404_not_422(client: httpx.AsyncClient, bad: str) -> None:
    me = device()
    for method, body in [("GET", None), ("PATCH", {"title": "t"}), ("DELETE", None)]:
        response = await client.request(method, f"/api/projects/{bad}", json=body, headers=me)
        assert response.status_code == 404, (method, bad)
    for body in ({"projectId": bad}, {"title": "t", "id": bad}):
        path = "/api/sessions" if "projectId" in body else "/api/projects"
        assert (await client.post(path, json=body, headers=me)).status_code == 404, body


async def test_no_identity_is_a_401_that_says_what_to_turn_on(client: httpx.AsyncClient) -> None:
    error = assert_error(await client.get("/api/projects"), 401, "unauthenticated")
    assert "Keep history on the server" in error["message"]


async def test_pages_cover_every_project_once_newest_first(client: httpx.AsyncClient) -> None:
    me = device()
    made = [(await create(client, me, f"project {n}"))["id"] for n in range(12)]
    await create(client, device(), "someone else's")

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 5}
    for _ in range(5):  # bounded
        page = (await client.get("/api/projects", params=params, headers=me)).json()
        seen.extend(p["id"] for p in page["projects"])
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]
    assert seen == list(reversed(made))


@pytest.mark.parametrize(
    "query", ["cursor=%00", "cursor=%ED%A0%80", "cursor=junk", "limit=0", "limit=51", "limit=x"]
)
async def test_bad_list_parameters_are_4xx(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/projects?{query}", headers=device())
    assert 400 <= response.status_code < 500, query
    assert response.json()["error"]["message"]


async def test_conversations_join_move_and_leave_projects(client: httpx.AsyncClient) -> None:
    me = device()
    budget, pricing = await create(client, me, "Budget"), await create(client, me, "Pricing")
    started = await client.post(
        "/api/sessions", json={"projectId": budget["id"], "title": "Sign-up", "mode": "critique"},
        headers=me,
    )
    assert started.status_code == 201, started.text
    session = started.json()
    assert (session["projectId"], session["title"], session["mode"]) == (
        budget["id"], "Sign-up", "critique")
    sid = session["id"]
    assert (await client.get(f"/api/projects/{budget['id']}", headers=me)).json()[
        "sessionIds"] == [sid]

    url = f"/api/sessions/{sid}"
    moved = (await client.patch(url, json={"projectId": pricing["id"]}, headers=me)).json()
    assert (moved["projectId"], moved["title"]) == (pricing["id"], "Sign-up")
    renamed = (await client.patch(url, json={"title": "Sign-up v2"}, headers=me)).json()
    assert (renamed["projectId"], renamed["title"]) == (pricing["id"], "Sign-up v2")
    listed = {p["title"]: p["sessionIds"]
              for p in (await client.get("/api/projects", headers=me)).json()["projects"]}
    assert listed == {"Budget": [], "Pricing": [sid]}

    detached = (await client.patch(url, json={"projectId": None}, headers=me)).json()
    assert detached["projectId"] is None and detached["title"] == "Sign-up v2"
    [summary] = (await client.get("/api/sessions", headers=me)).json()["sessions"]
    assert summary["projectId"] is None

    # A retry of the same id answers the conversation as it is.
    again = await client.post("/api/sessions", json={"id": sid, "projectId": budget["id"]},
                              headers=me)
    assert again.status_code == 201 and again.json() == detached


async def test_deleting_a_project_keeps_its_conversations(client: httpx.AsyncClient) -> None:
    me = device()
    project = await create(client, me, brief=a_brief("gone with the project"))
    sid = str(uuid.uuid4())
    made = await client.post("/api/sessions", json={"id": sid, "projectId": project["id"]},
                             headers=me)
    assert made.status_code == 201, made.text
    for sender, text in [("user", "Onboarding feels heavy."), ("bot", "What comes first?")]:
        said = await client.post(f"/api/sessions/{sid}/messages",
                                 json={"sender": sender, "text": text}, headers=me)
        assert said.status_code == 201

    gone = await client.delete(f"/api/projects/{project['id']}", headers=me)
    assert gone.status_code == 204 and gone.content == b""
    assert (await client.get(f"/api/projects/{project['id']}", headers=me)).status_code == 404
    again = await client.delete(f"/api/projects/{project['id']}", headers=me)
    assert again.status_code == 404

    kept = (await client.get(f"/api/sessions/{sid}", headers=me)).json()
    assert kept["projectId"] is None
    assert [m["text"] for m in kept["messages"]] == ["Onboarding feels heavy.",
                                                       "What comes first?"]
    assert [s["id"] for s in (await client.get("/api/sessions", headers=me)).json()[
        "sessions"]] == [sid]


async def test_projects_have_a_per_owner_cap(database_url: str) -> None:  # noqa: F811
    app = create_app(settings(database_url=database_url, history_max_projects=2))
    me = device()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as http,
    ):
        first = await create(http, me, "one")
        await create(http, me, "two")
        full = await http.post("/api/projects", json={"title": "three"}, headers=me)
        message = assert_error(full, 409, "history_full")["message"]
        assert "at most 2 of your projects" in message and "Delete" in message
        await create(http, device(), "another device has room")
        assert (await http.delete(f"/api/projects/{first['id']}", headers=me)).status_code == 204
        await create(http, me, "three")


async def test_reads_are_rate_limited_like_sessions(database_url: str) -> None:  # noqa: F811
    app = create_app(settings(database_url=database_url, rate_limit_per_client="3/minute"))
    me = device()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as http,
    ):
        statuses = [(await http.get("/api/projects", headers=me)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.fixture
def proxied_postgres() -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    url = create_postgres_database()
    try:
        parts = urlsplit(url)
        with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
            yield urlunsplit(parts._replace(netloc=netloc)), proxy
    finally:
        drop_postgres_database(url)


@pytest.mark.postgres
async def test_an_unreachable_database_is_a_503_that_says_try_again(
    proxied_postgres: tuple[str, TcpProxy],
) -> None:
    url, to_db = proxied_postgres
    app = create_app(settings(database_url=url, database_migrate_on_start=True))
    me = device()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as http,
    ):
        made = await create(http, me)
        to_db.cut()
        for method, path, body in [
            ("GET", "/api/projects", None),
            ("POST", "/api/projects", {"title": "x"}),
            ("GET", f"/api/projects/{made['id']}", None),
            ("PATCH", f"/api/projects/{made['id']}", {"title": "x"}),
            ("DELETE", f"/api/projects/{made['id']}", None),
        ]:
            response = await http.request(method, path, json=body, headers=me)
            assert_error(response, 503, "storage_unavailable")
            assert int(response.headers["retry-after"]) >= 1
        to_db.restore()
        assert (await http.get(f"/api/projects/{made['id']}", headers=me)).json() == made


async def test_a_kept_turn_joins_the_project_it_names(
    database_url: str, fake: FakeOpenAI  # noqa: F811
) -> None:
    app = create_app(settings(database_url=database_url, openai_base_url=fake.base_url))
    me, other = device(), device()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as http,
    ):
        theirs = await create(http, other, "Theirs")

        async def turn(session: str, project: str) -> dict[str, Any]:
            said = await http.post("/api/conversation", headers=me, json={
                "message": "Where do I start?", "apiKey": "sk-test-projects-0123",
                "sessionId": session, "projectId": project})
            assert said.status_code == 200 and said.json()["saved"] is True, said.text
            got: dict[str, Any] = (await http.get(f"/api/sessions/{session}",
                                                  headers=me)).json()
            return got

        # A project the device has not sent yet is made, untitled, and the session joins it.
        new_project = str(uuid.uuid4())
        first = str(uuid.uuid4())
        assert (await turn(first, new_project))["projectId"] == new_project
        made = (await http.get(f"/api/projects/{new_project}", headers=me)).json()
        assert made["sessionIds"] == [first] and made["brief"] == EMPTY_BRIEF
        # Another owner's project is never joined, nor shown to exist: no project at all.
        second = str(uuid.uuid4())
        assert (await turn(second, theirs["id"]))["projectId"] is None
        assert (await http.get(f"/api/projects/{theirs['id']}", headers=other)).json()[
            "sessionIds"] == []
