"""/api/sessions on SQLite and PostgreSQL: shapes, ownership (IDOR), bad input, Clerk, claims."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from parley.app import create_app
from parley.config import Settings
from parley.storage.owners import device_owner
from parley.storage.repository import HistoryStore
from tests.errors import assert_error
from tests.fakes.clerk import AZP, FakeClerk
from tests.images.pictures import SVG_WITH_SCRIPT, data_url, phone_photo, ui_screenshot
from tests.live import LiveServer, device
from tests.storage.databases import database_url, postgres_database  # noqa: F401 (fixtures)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"local_model": "off", "local_stt": "off", "local_tts": "off"}
    return Settings(**(values | overrides))


def owner_of(headers: dict[str, str]) -> str:
    return device_owner(headers["X-Parley-Device"])


@dataclass
class Api:
    client: httpx.AsyncClient
    store: HistoryStore
    clerk: FakeClerk

    async def seed(self, owner: str, *turns: str, session_id: str | None = None) -> str:
        """A session with the given user turns (each answered), stored as the route would."""
        sid = session_id or str(uuid.uuid4())
        for turn in turns:
            await self.store.append_message(owner, sid, "user", turn)
            await self.store.append_message(owner, sid, "bot", f"About {turn}?")
        return sid

    def signed_in(self, user: str = "user_1", **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.clerk.token(user, **claims)}"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:  # noqa: F811 (fixture)
    async with FakeClerk() as clerk:
        app = create_app(
            settings(
                database_url=database_url,
                clerk_issuer=clerk.issuer,
                clerk_authorized_parties=AZP,
                allowed_hosts="parley.test",
            )
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://parley.test"
            ) as client,
        ):
            yield Api(client, app.state.services.storage, clerk)


async def test_without_a_database_every_endpoint_says_storage_is_off() -> None:
    app = create_app(settings())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        assert (await client.get("/api/health")).json()["storage"] == "browser"
        sid = str(uuid.uuid4())
        for method, path, body in [
            ("GET", "/api/sessions", None),
            ("DELETE", "/api/sessions", None),
            ("POST", "/api/sessions/claim", None),
            ("GET", f"/api/sessions/{sid}", None),
            ("PATCH", f"/api/sessions/{sid}", {"title": "x"}),
            ("DELETE", f"/api/sessions/{sid}", None),
        ]:
            response = await client.request(method, path, json=body, headers=device())
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "storage_disabled"


async def test_health_says_history_is_kept_on_the_server(api: Api) -> None:
    assert (await api.client.get("/api/health")).json()["storage"] == "server"


async def test_a_session_reads_back_in_snake_case(api: Api) -> None:
    me = device()
    sid = await api.seed(owner_of(me), "Our onboarding feels heavy.")

    listed = (await api.client.get("/api/sessions", headers=me)).json()
    assert listed["next_cursor"] is None
    [summary] = listed["sessions"]
    # projectId as the contract spells it (the projects API is camelCase).
    assert set(summary) == {"id", "title", "mode", "started_at", "ended_at", "updated_at",
                            "projectId"}
    assert summary["projectId"] is None
    assert summary["id"] == sid
    assert summary["title"] == "Our onboarding feels heavy."
    assert summary["mode"] == "sparring"
    assert summary["ended_at"] is None

    detail = (await api.client.get(f"/api/sessions/{sid}", headers=me)).json()
    assert detail["next_before"] is None  # all of it fits one page
    assert {k: v for k, v in detail.items() if k not in ("messages", "next_before")} == summary
    assert [(m["sender"], m["text"], m["interrupted"]) for m in detail["messages"]] == [
        ("user", "Our onboarding feels heavy.", False),
        ("bot", "About Our onboarding feels heavy.?", False),
    ]
    assert set(detail["messages"][0]) == {"id", "sender", "text", "interrupted", "created_at",
                                          "images"}
    assert [m["images"] for m in detail["messages"]] == [[], []]


async def test_rename_and_delete(api: Api) -> None:
    me = device()
    sid = await api.seed(owner_of(me), "pricing page")
    renamed = await api.client.patch(f"/api/sessions/{sid}", json={"title": " Pricing v2 "},
                                     headers=me)
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Pricing v2"

    gone = await api.client.delete(f"/api/sessions/{sid}", headers=me)
    assert gone.status_code == 204
    assert gone.content == b""
    again = await api.client.get(f"/api/sessions/{sid}", headers=me)
    assert again.status_code == 404


async def test_delete_all_answers_with_a_count_and_spares_others(api: Api) -> None:
    me, them = device(), device()
    for n in range(3):
        await api.seed(owner_of(me), f"mine {n}")
    theirs = await api.seed(owner_of(them), "theirs")
    response = await api.client.delete("/api/sessions", headers=me)
    assert response.json() == {"deleted": 3}
    assert (await api.client.get("/api/sessions", headers=me)).json()["sessions"] == []
    assert (await api.client.get(f"/api/sessions/{theirs}", headers=them)).status_code == 200


async def test_no_identity_is_a_401_that_says_what_to_turn_on(api: Api) -> None:
    response = await api.client.get("/api/sessions")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert "Keep history on the server" in error["message"]


@pytest.mark.parametrize("secret", ["short", "0" * 65, "z" * 64, "0" * 32 + "\x00" + "0" * 31])
async def test_a_malformed_device_secret_is_a_400(api: Api, secret: str) -> None:
    response = await api.client.get("/api/sessions", headers={"X-Parley-Device": secret})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_device"
    assert secret not in response.text or secret == "short"


async def test_another_device_gets_404_on_every_endpoint_never_the_data(api: Api) -> None:
    alice, mallory = device(), device()
    sid = await api.seed(owner_of(alice), "secret roadmap")
    missing = str(uuid.uuid4())

    for method, body in [("GET", None), ("PATCH", {"title": "pwned"}), ("DELETE", None)]:
        theirs = await api.client.request(
            method, f"/api/sessions/{sid}", json=body, headers=mallory
        )
        nothing = await api.client.request(
            method, f"/api/sessions/{missing}", json=body, headers=mallory
        )
        assert theirs.status_code == 404, method
        # Byte for byte what a missing id answers: ids cannot be probed.
        assert theirs.content == nothing.content
        assert "secret roadmap" not in theirs.text

    assert (await api.client.get("/api/sessions", headers=mallory)).json()["sessions"] == []
    assert (await api.client.delete("/api/sessions", headers=mallory)).json() == {"deleted": 0}
    detail = (await api.client.get(f"/api/sessions/{sid}", headers=alice)).json()
    assert detail["title"] == "secret roadmap"
    assert len(detail["messages"]) == 2


async def test_another_signed_in_user_gets_404_too(api: Api) -> None:
    sid = await api.seed("clerk:user_alice", "board deck")
    alice, bob = api.signed_in("user_alice"), api.signed_in("user_bob")
    assert (await api.client.get(f"/api/sessions/{sid}", headers=alice)).status_code == 200
    assert (await api.client.get(f"/api/sessions/{sid}", headers=bob)).status_code == 404
    patched = await api.client.patch(f"/api/sessions/{sid}", json={"title": "x"}, headers=bob)
    assert patched.status_code == 404
    assert (await api.client.delete(f"/api/sessions/{sid}", headers=bob)).status_code == 404
    assert (await api.client.get(f"/api/sessions/{sid}", headers=alice)).status_code == 200


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "1", "claim", "%00", "00000000-0000-0000-0000-00000000000g"]
)
async def test_malformed_ids_are_404_not_422(api: Api, bad: str) -> None:
    me = device()
    for method, body in [("GET", None), ("PATCH", {"title": "t"}), ("DELETE", None)]:
        response = await api.client.request(method, f"/api/sessions/{bad}", json=body,
                                            headers=me)
        assert response.status_code == 404, (method, bad)


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "nul \\u0000 byte"}',
        '{"title": "lone \\ud800 surrogate"}',
        '{"title": "low \\udfff half"}',
        '{"title": ""}',
        '{"title": "   "}',
        '{"title": "' + "x" * 201 + '"}',
        '{"title": 42}',
        '{"name": "no title"}',
        '{"title": "unterminated',
    ],
)
async def test_bad_titles_are_4xx_never_500(api: Api, raw: str) -> None:
    me = device()
    sid = await api.seed(owner_of(me), "a title")
    response = await api.client.patch(
        f"/api/sessions/{sid}", content=raw.encode("utf-8", "surrogatepass"),
        headers=me | {"Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, raw
    assert "error" in response.json()
    assert (await api.client.get(f"/api/sessions/{sid}", headers=me)).json()["title"] == "a title"


async def test_turns_heard_outside_a_conversation_turn_are_kept(api: Api) -> None:
    me = device()
    sid = str(uuid.uuid4())
    said = await api.client.post(
        f"/api/sessions/{sid}/messages",
        json={"sender": "user", "text": "  Our empty states feel cold.  ", "mode": "critique"},
        headers=me,
    )
    assert said.status_code == 201, said.text
    assert said.json()["sender"] == "user" and said.json()["text"] == "Our empty states feel cold."
    heard = await api.client.post(
        f"/api/sessions/{sid}/messages",
        json={"sender": "bot", "text": "What should the first one", "interrupted": True},
        headers=me,
    )
    assert heard.status_code == 201, heard.text
    detail = (await api.client.get(f"/api/sessions/{sid}", headers=me)).json()
    assert detail["mode"] == "critique"
    assert detail["title"] == "Our empty states feel cold."
    assert [(m["sender"], m["text"], m["interrupted"]) for m in detail["messages"]] == [
        ("user", "Our empty states feel cold.", False),
        ("bot", "What should the first one", True),
    ]


async def test_nobody_adds_to_someone_elses_conversation(api: Api) -> None:
    alice, mallory = device(), device()
    sid = await api.seed(owner_of(alice), "pricing page")
    response = await api.client.post(
        f"/api/sessions/{sid}/messages", json={"sender": "user", "text": "pwned"},
        headers=mallory,
    )
    missing = await api.client.post(
        f"/api/sessions/{uuid.uuid4()}/messages", json={"sender": "user", "text": "pwned"},
        headers={},
    )
    assert response.status_code == 404
    assert missing.status_code == 401
    detail = (await api.client.get(f"/api/sessions/{sid}", headers=alice)).json()
    assert "pwned" not in [m["text"] for m in detail["messages"]]


@pytest.mark.parametrize(
    "raw",
    [
        '{"sender": "system", "text": "x"}',
        '{"sender": "user", "text": ""}',
        '{"sender": "user", "text": "   "}',
        '{"sender": "user", "text": "nul \\u0000 byte"}',
        '{"sender": "user", "text": "lone \\ud800 surrogate"}',
        '{"sender": "user", "text": "' + "x" * 20_001 + '"}',
        '{"sender": "user", "text": "hi", "mode": "rant"}',
        '{"sender": "user"}',
        '{"sender": "user", "text": 42}',
    ],
)
async def test_bad_messages_are_4xx_and_store_nothing(api: Api, raw: str) -> None:
    me = device()
    sid = str(uuid.uuid4())
    response = await api.client.post(
        f"/api/sessions/{sid}/messages", content=raw.encode("utf-8", "surrogatepass"),
        headers=me | {"Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, raw
    assert response.json()["error"]["message"]
    assert (await api.client.get(f"/api/sessions/{sid}", headers=me)).status_code == 404


@pytest.mark.parametrize(
    "query", ["cursor=%00", "cursor=%ED%A0%80", "cursor=junk", "limit=0", "limit=101", "limit=x"]
)
async def test_bad_list_parameters_are_4xx(api: Api, query: str) -> None:
    response = await api.client.get(f"/api/sessions?{query}", headers=device())
    assert 400 <= response.status_code < 500, query


async def test_pages_cover_every_session_once_newest_first(api: Api) -> None:
    me = device()
    made = [await api.seed(owner_of(me), f"idea {n}") for n in range(25)]
    await api.seed(owner_of(device()), "someone else's")

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10}
    for _ in range(5):
        page = (await api.client.get("/api/sessions", params=params, headers=me)).json()
        seen.extend(s["id"] for s in page["sessions"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == list(reversed(made))


async def test_a_signed_in_user_sees_their_sessions_on_any_device(api: Api) -> None:
    sid = await api.seed("clerk:user_1", "cross-device")
    for headers in (api.signed_in("user_1"), api.signed_in("user_1") | device()):
        listed = (await api.client.get("/api/sessions", headers=headers)).json()
        assert [s["id"] for s in listed["sessions"]] == [sid]


async def test_an_expired_sign_in_says_sign_in_again(api: Api) -> None:
    response = await api.client.get(
        "/api/sessions", headers=api.signed_in(expires_in=-120) | device()
    )
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthenticated",
        "message": "Your sign-in has expired. Sign in again.",
    }


async def test_claim_moves_this_devices_sessions_to_the_account(api: Api) -> None:
    phone, laptop = device(), device()
    first = await api.seed(owner_of(phone), "from the phone")
    second = await api.seed(owner_of(phone), "also the phone")
    other = await api.seed(owner_of(laptop), "laptop only")
    user = api.signed_in("user_7")

    response = await api.client.post("/api/sessions/claim", headers=user | phone)
    assert response.status_code == 200
    assert response.json() == {"claimed": 2}

    mine = (await api.client.get("/api/sessions", headers=user)).json()["sessions"]
    assert {s["id"] for s in mine} == {first, second}
    assert (await api.client.get("/api/sessions", headers=phone)).json()["sessions"] == []
    assert (await api.client.get(f"/api/sessions/{other}", headers=laptop)).status_code == 200


async def test_claim_needs_both_a_sign_in_and_a_device(api: Api) -> None:
    phone = device()
    await api.seed(owner_of(phone), "keep me")
    unsigned = await api.client.post("/api/sessions/claim", headers=phone)
    assert unsigned.status_code == 401
    assert "Sign in first" in unsigned.json()["error"]["message"]
    no_device = await api.client.post("/api/sessions/claim", headers=api.signed_in())
    assert no_device.status_code == 422
    forged = await api.client.post(
        "/api/sessions/claim", headers={"Authorization": "Bearer eyJhbGciOi.x.y"} | phone
    )
    assert forged.status_code == 401
    assert len((await api.client.get("/api/sessions", headers=phone)).json()["sessions"]) == 1


def test_a_real_server_migrates_at_startup_and_serves_history(
    database_url: str,  # noqa: F811 (fixture)
) -> None:
    me = device()
    live = LiveServer(settings(database_url=database_url, database_migrate_on_start=True))
    with live, httpx.Client(base_url=live.url, timeout=10) as client:
        assert client.get("/api/health").json()["storage"] == "server"
        assert client.get("/api/sessions", headers=me).json() == {
            "sessions": [], "next_cursor": None,
        }
        assert client.get(f"/api/sessions/{uuid.uuid4()}", headers=me).status_code == 404


async def test_a_long_conversation_comes_back_a_page_at_a_time(api: Api) -> None:
    me = device()
    turns = [f"turn {n}" for n in range(30)]
    sid = await api.seed(owner_of(me), *turns)  # 60 messages
    seen: list[str] = []
    before: str | None = None
    for _ in range(10):  # bounded
        params = {"limit": "25", **({"before": before} if before else {})}
        page = (await api.client.get(f"/api/sessions/{sid}", headers=me, params=params)).json()
        seen = [m["text"] for m in page["messages"]] + seen
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == 60
    assert seen[0] == "turn 0" and seen[-1] == "About turn 29?"
    stale = await api.client.get(f"/api/sessions/{sid}", headers=me,
                                 params={"before": str(uuid.uuid4())})
    assert stale.status_code == 422


async def test_history_has_per_owner_caps(database_url: str) -> None:  # noqa: F811
    app = create_app(settings(database_url=database_url, history_max_sessions=2,
                              history_max_messages=3))
    me = device()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as client,
    ):
        async def add(sid: str, text: str) -> httpx.Response:
            return await client.post(f"/api/sessions/{sid}/messages", headers=me,
                                     json={"sender": "user", "text": text})

        first, second, third = (str(uuid.uuid4()) for _ in range(3))
        assert (await add(first, "a")).status_code == 201
        assert (await add(second, "b")).status_code == 201
        full = await add(third, "c")
        assert full.status_code == 409 and full.json()["error"]["code"] == "history_full"
        assert (await add(first, "a2")).status_code == 201
        assert (await add(first, "a3")).status_code == 201
        long = await add(first, "a4")
        assert long.status_code == 409 and "new conversation" in long.json()["error"]["message"]
        # Nothing half-stored: the refused conversation does not exist.
        assert (await client.get(f"/api/sessions/{third}", headers=me)).status_code == 404


async def test_reads_are_rate_limited_before_sign_in_is_checked(database_url: str) -> None:  # noqa: F811
    async with FakeClerk() as clerk:
        app = create_app(settings(database_url=database_url, clerk_issuer=clerk.issuer,
                                  rate_limit_per_client="5/minute"))
        junk = {"Authorization": "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6Imp1bmsifQ.e30.x"}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://localhost") as client,
        ):
            statuses = [(await client.get("/api/sessions", headers=junk)).status_code
                        for _ in range(8)]
        assert statuses[:5] == [401] * 5
        assert statuses[5:] == [429] * 3
        assert clerk.fetches <= 1


async def test_a_realtime_turns_pictures_are_kept_reencoded(api: Api) -> None:
    me = device()
    sid = str(uuid.uuid4())
    photo = phone_photo()  # megabytes, past the plain body limit; GPS in its EXIF
    said = await api.client.post(
        f"/api/sessions/{sid}/messages", headers=me,
        json={"sender": "user", "text": "This screen?", "images": [data_url(photo, "image/jpeg")]},
    )
    assert said.status_code == 201, said.text
    (kept,) = said.json()["images"]
    picture = Image.open(io.BytesIO(base64.b64decode(kept.partition(",")[2])))
    assert not picture.getexif() and max(picture.size) <= 2048
    detail = (await api.client.get(f"/api/sessions/{sid}", headers=me)).json()
    assert [m["images"] for m in detail["messages"]] == [[kept]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sender": "bot", "text": "x", "images": ["PNG"]}, 422, "invalid_request"),
        ({"sender": "user", "text": "x", "images": ["SHOT"] * 5}, 422, "invalid_request"),
        ({"sender": "user", "text": "x", "images": ["SVG"]}, 415, "unsupported_image"),
        ({"sender": "user", "text": "x", "images": ["https://example.com/a.png"]}, 415,
         "unsupported_image"),
    ],
    ids=["bot-pictures", "five", "svg", "a-link"],
)
async def test_pictures_are_checked_as_a_turns_are(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    pictures = {"PNG": data_url(ui_screenshot(320, 200), "image/png"),
                "SHOT": data_url(ui_screenshot(320, 200), "image/png"),
                "SVG": data_url(SVG_WITH_SCRIPT, "image/svg+xml")}
    body = body | {"images": [pictures.get(i, i) for i in body["images"]]}
    me = device()
    sid = str(uuid.uuid4())
    response = await api.client.post(f"/api/sessions/{sid}/messages", json=body, headers=me)
    assert_error(response, status, code)
    assert (await api.client.get(f"/api/sessions/{sid}", headers=me)).status_code == 404


async def test_pictures_have_a_per_owner_allowance(database_url: str) -> None:  # noqa: F811
    app = create_app(settings(database_url=database_url, history_max_image_bytes=60_000))
    me = device()
    picture = data_url(ui_screenshot(640, 400), "image/png")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://localhost") as client,
    ):
        sid = str(uuid.uuid4())
        first = await client.post(f"/api/sessions/{sid}/messages", headers=me,
                                  json={"sender": "user", "text": "a", "images": [picture]})
        assert first.status_code == 201, first.text
        size = len(first.json()["images"][0])
        assert 30_000 < size <= 60_000, size  # so that a second one cannot fit
        full = await client.post(f"/api/sessions/{sid}/messages", headers=me,
                                 json={"sender": "user", "text": "b", "images": [picture]})
        message = assert_error(full, 409, "history_full")["message"]
        assert "0.06 MB of your pictures" in message and "Delete" in message
        words = await client.post(f"/api/sessions/{sid}/messages", headers=me,
                                  json={"sender": "user", "text": "words still fit"})
        assert words.status_code == 201
