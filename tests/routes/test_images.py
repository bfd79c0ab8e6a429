"""Pictures in a turn, over HTTP: exactly the re-encoded picture goes upstream, without
metadata; every kind of bad picture is refused with the contract's code, and nothing is kept."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.errors import assert_error
from tests.fakes.openai_server import FakeOpenAI, Script
from tests.images.pictures import (
    SVG_WITH_SCRIPT,
    TEXT_FILE,
    data_url,
    huge_png,
    phone_photo,
    truncated_jpeg,
    ui_screenshot,
)
from tests.live import LiveServer, Serve, device

KEY = "sk-test-images-0123456789"


async def turn(server: LiveServer, **body: Any) -> httpx.Response:
    payload = {"message": "What do you think of this sign-up screen?", "apiKey": KEY, **body}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        return await http.post("/api/conversation", json=payload,
                               headers=body.pop("headers", None))


async def test_exactly_the_reencoded_picture_goes_upstream_without_gps(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    fake.script(Script(describe_images=True))
    photo = phone_photo()  # 12 megapixels, GPS and an orientation tag in its EXIF
    answer = await turn(server, images=[data_url(photo, "image/jpeg")], mode="critique")
    assert answer.status_code == 200, answer.text
    assert "I see 1 image" in answer.json()["reply"]
    (sent,) = fake.requests_for("chat")
    (part,) = sent.images
    picture = part.image()
    assert max(picture.size) <= 2048 and picture.size[1] > picture.size[0]  # turned upright
    assert not picture.getexif() and "exif" not in picture.info and "xmp" not in picture.info
    assert part.media_type == "image/jpeg" and part.data is not None and len(part.data) < 500_000
    assert part.data != photo
    # The person's words travel beside it, and the critique is told to point at the screen.
    turn_parts = sent.json["messages"][-1]["content"]
    assert [p for p in turn_parts if p["type"] == "text"] == [
        {"type": "text", "text": "What do you think of this sign-up screen?"}]
    system = sent.json["messages"][0]["content"]
    assert "visible" in system and "biggest risk" in system


async def test_pictures_in_the_history_go_again(server: LiveServer, fake: FakeOpenAI) -> None:
    shot = data_url(ui_screenshot(), "image/png")
    history = [{"role": "user", "content": "Here is the screen.", "images": [shot]},
               {"role": "assistant", "content": "The form is long."}]
    answer = await turn(server, history=history, message="And the button?")
    assert answer.status_code == 200, answer.text
    (sent,) = fake.requests_for("chat")
    assert len(sent.images) == 1 and sent.images[0].message == 1


@pytest.mark.parametrize(
    ("images", "status", "code"),
    [
        ([data_url(huge_png(), "image/png")], 422, "image_too_large"),
        ([data_url(SVG_WITH_SCRIPT, "image/svg+xml")], 415, "unsupported_image"),
        ([data_url(TEXT_FILE, "image/png")], 415, "unsupported_image"),
        ([data_url(truncated_jpeg(), "image/jpeg")], 415, "unsupported_image"),
        ([data_url(phone_photo(), "image/png")], 415, "unsupported_image"),  # a lying type
        ([data_url(b"\xff\xd8\xff" + bytes(12_000_000), "image/jpeg")], 413, "payload_too_large"),
        ([data_url(ui_screenshot(320, 200), "image/png")] * 9, 422, "invalid_request"),
    ],
    ids=["50k-by-50k", "svg", "renamed-text", "truncated", "lying-type", "12-mb", "nine"],
)
async def test_bad_pictures_are_refused_and_nothing_is_sent(
    serve: Serve, fake: FakeOpenAI, images: list[str], status: int, code: str
) -> None:
    server = serve(max_image_body_bytes=40_000_000)
    answer = await turn(server, images=images)
    assert_error(answer, status, code, secrets=(KEY,))
    assert fake.requests_for("chat") == []


async def test_a_body_past_the_picture_limit_is_413_before_it_is_read(
    server: LiveServer, fake: FakeOpenAI
) -> None:
    answer = await turn(server, images=[data_url(bytes(12_000_000), "image/jpeg")])
    assert_error(answer, 413, "payload_too_large")


async def test_a_model_that_cannot_see_says_which_would(serve: Serve, fake: FakeOpenAI) -> None:
    server = serve(openai_model="gpt-4.1-mini,gpt-3.5-turbo",
                   openai_vision_models="gpt-4.1-mini")
    answer = await turn(server, model="gpt-3.5-turbo",
                        images=[data_url(ui_screenshot(640, 400), "image/png")])
    message = assert_error(answer, 422, "vision_unavailable")["message"]
    assert "gpt-4.1-mini" in message
    assert fake.requests_for("chat") == []


@pytest.mark.local_model
async def test_offline_the_notes_answer_and_say_they_cannot_see(serve: Serve) -> None:
    server = serve(local_model="auto")
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        answer = await http.post("/api/conversation", json={
            "message": "What's wrong with this sign-up form?",
            "images": [data_url(ui_screenshot(640, 400), "image/png")]})
    assert answer.status_code == 200, answer.text
    reply = answer.json()["reply"]
    assert reply.startswith("Offline I can't see pictures")
    assert "sign" in reply.lower()


@pytest.mark.parametrize("picture", [SVG_WITH_SCRIPT, TEXT_FILE])
async def test_nothing_is_half_stored_after_a_refusal(
    serve: Serve, fake: FakeOpenAI, tmp_path: Any, picture: bytes
) -> None:
    server = serve(database_url=f"sqlite:///{tmp_path / 'h.db'}", database_migrate_on_start=True)
    me = device()
    session = str(uuid.uuid4())
    answer = await turn(server, images=[data_url(picture, "image/png")], sessionId=session,
                        headers=me)
    assert answer.status_code == 415
    async with httpx.AsyncClient(base_url=server.url) as http:
        listed = (await http.get("/api/sessions", headers=me)).json()
    assert listed["sessions"] == []


def test_the_fixture_photo_really_has_gps() -> None:
    # The check above means something only if the photo sent had GPS to lose.
    exif = Image.open(io.BytesIO(phone_photo())).getexif()
    assert exif.get_ifd(0x8825), "the test photo lost its GPS block"


async def test_a_kept_turn_keeps_the_reencoded_picture_never_the_photo(
    serve: Serve, fake: FakeOpenAI, tmp_path: Any
) -> None:
    server = serve(database_url=f"sqlite:///{tmp_path / 'h.db'}", database_migrate_on_start=True)
    fake.script(Script(describe_images=True))
    me = device()
    session = str(uuid.uuid4())
    photo = phone_photo()  # GPS, camera, orientation and XMP in its metadata
    answer = await turn(server, images=[data_url(photo, "image/jpeg")], sessionId=session,
                        headers=me)
    assert answer.status_code == 200, answer.text
    assert answer.json()["saved"] is True
    async with httpx.AsyncClient(base_url=server.url) as http:
        kept = (await http.get(f"/api/sessions/{session}", headers=me)).json()
    user, bot = kept["messages"]
    assert bot["images"] == []
    (stored,) = user["images"]
    # Exactly what went upstream: the clean, downsized, upright re-encoding.
    (sent,) = fake.requests_for("chat")
    assert stored == sent.images[0].url
    assert stored.startswith("data:image/jpeg;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(stored.partition(",")[2])))
    assert not picture.getexif() and "exif" not in picture.info and "xmp" not in picture.info
    assert max(picture.size) <= 2048 and picture.size[1] > picture.size[0]
    assert base64.b64encode(photo).decode() not in stored


async def test_a_turn_past_the_picture_allowance_is_answered_but_not_kept(
    serve: Serve, fake: FakeOpenAI, tmp_path: Any
) -> None:
    server = serve(database_url=f"sqlite:///{tmp_path / 'h.db'}", database_migrate_on_start=True,
                   history_max_image_bytes=1_000)
    me = device()
    session = str(uuid.uuid4())
    answer = await turn(server, images=[data_url(ui_screenshot(640, 400), "image/png")],
                        sessionId=session, headers=me)
    assert answer.status_code == 200, answer.text
    assert answer.json()["saved"] is False  # the device keeps it; the server had no room
    async with httpx.AsyncClient(base_url=server.url) as http:
        missing = await http.get(f"/api/sessions/{session}", headers=me)
    assert missing.status_code == 404
