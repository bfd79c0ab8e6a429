"""POST /api/transcribe: one recorded utterance (multipart field `audio`) in, its words out."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Literal, cast

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from parley import errors
from parley.deps import AccessCodeDep, BearerKeyDep, RegistryDep, SettingsDep
from parley.speech.choice import choose_engine
from parley.speech.formats import (
    CONTAINERS,
    EXTENSIONS,
    SNIFF_BYTES,
    UNLABELLED,
    Container,
    base_type,
    declared_container,
    sniff,
)
from parley.speech.services import SpeechDep

router = APIRouter()

# Multipart framing (boundaries, part headers, the small text fields) on top of the file.
FORM_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = 1024
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")
_NAMES = {"mp4": "MP4", "webm": "WebM", "ogg": "Ogg", "wav": "WAV", "mp3": "MP3"}


class TranscriptOut(BaseModel):
    text: str
    language: str | None
    duration_ms: int


UPLOAD_SCHEMA: dict[str, object] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["audio"],
                    "properties": {
                        "audio": {
                            "type": "string",
                            "format": "binary",
                            "description": "One utterance: " + ", ".join(sorted(CONTAINERS)),
                        },
                        "language": {
                            "type": "string",
                            "description": "A hint such as `en` or `en-US`; speeds up "
                            "offline transcription.",
                        },
                        "provider": {"type": "string", "enum": ["openai", "local"]},
                        "apiKey": {"type": "string"},
                    },
                }
            }
        },
    }
}


@dataclass(frozen=True, slots=True)
class Upload:
    audio: bytes
    content_type: str
    fields: dict[str, str]


@router.post(
    "/api/transcribe",
    response_model=TranscriptOut,
    openapi_extra=UPLOAD_SCHEMA,
    responses={413: {"description": "The recording is too large."},
               415: {"description": "Not an accepted audio type."},
               422: {"description": "The recording could not be read."}},
)
async def transcribe(
    request: Request,
    settings: SettingsDep,
    registry: RegistryDep,
    speech: SpeechDep,
    bearer: BearerKeyDep,
    code: AccessCodeDep,
) -> TranscriptOut:
    """Turn one recorded utterance into text."""
    upload = await read_upload(request, max_audio_bytes=settings.max_audio_bytes)
    language = _language(upload.fields.get("language"))
    provider = _provider(upload.fields.get("provider"))
    container = check_audio(upload.audio, upload.content_type)
    choice = choose_engine(
        "stt",
        openai=speech.openai_stt,
        local=speech.local_stt,
        explicit=provider,
        user_key=upload.fields.get("apiKey", "").strip() or bearer,
        access_code=code,
        registry=registry,
    )
    transcript = await choice.engine.transcribe(
        upload.audio,
        content_type=base_type(upload.content_type) or f"audio/{container}",
        filename=f"recording.{EXTENSIONS[container]}",
        api_key=choice.api_key,
        language=language,
    )
    return TranscriptOut(
        text=transcript.text, language=transcript.language, duration_ms=transcript.duration_ms
    )


async def read_upload(request: Request, *, max_audio_bytes: int) -> Upload:
    """The `audio` file and the text fields, refusing bodies over the limit before reading them."""
    if base_type(request.headers.get("content-type")) != "multipart/form-data":
        raise errors.UnsupportedMediaType(
            "Send the recording as multipart/form-data, with the file in the `audio` field."
        )
    limit = max_audio_bytes + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _too_large(max_audio_bytes)
    parser = MultiPartParser(
        request.headers, _limited(request.stream(), limit, max_audio_bytes),
        max_files=1, max_fields=8, max_part_size=MAX_FIELD_BYTES,
    )
    # Keep the file in memory: the body is already capped, so it never needs a disk spool.
    parser.spool_max_size = limit + 1
    try:
        form = await parser.parse()
    except MultiPartException:
        raise errors.InvalidRequest(
            "The upload is not a valid multipart form. Send the file in the `audio` field."
        ) from None
    try:
        audio = form.get("audio")
        if not isinstance(audio, UploadFile):
            raise errors.InvalidRequest("Attach the recording as a file in the `audio` field.")
        data = await audio.read()
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        return Upload(data, audio.content_type or "", fields)
    finally:
        await form.close()


async def _limited(
    chunks: AsyncIterator[bytes], limit: int, max_audio_bytes: int
) -> AsyncGenerator[bytes, None]:
    # A chunked upload has no Content-Length, and a client may send more than it declared.
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise _too_large(max_audio_bytes)
        yield chunk


def _too_large(max_audio_bytes: int) -> errors.PayloadTooLarge:
    return errors.PayloadTooLarge(
        f"That recording is larger than {max_audio_bytes / 1_000_000:g} MB. "
        "Send shorter turns (about two minutes at most)."
    )


def check_audio(audio: bytes, content_type: str) -> Container:
    """The container of an upload whose bytes match its label; 415 or 422 otherwise."""
    if not audio:
        raise errors.AudioUnreadable("The recording is empty. Try recording again.")
    declared = declared_container(content_type)
    if declared is None and base_type(content_type) not in UNLABELLED:
        raise errors.UnsupportedMediaType(
            f"{base_type(content_type)} is not accepted. "
            "Send mp4, webm, ogg, wav or mp3 audio."
        )
    actual = sniff(audio[:SNIFF_BYTES])
    if actual is None:
        raise errors.AudioUnreadable(
            "That file is not audio Parley can read (mp4, webm, ogg, wav or mp3). "
            "Try recording again."
        )
    if declared is not None and declared != actual:
        raise errors.UnsupportedMediaType(
            f"The upload is labelled {base_type(content_type)} but holds {_NAMES[actual]} "
            "audio. Label it with the recorder's real type."
        )
    return actual


def _provider(value: str | None) -> Literal["openai", "local"] | None:
    if not value:
        return None
    if value not in ("openai", "local"):
        raise errors.InvalidRequest("`provider` must be openai or local, or left out.")
    return cast(Literal["openai", "local"], value)


def _language(value: str | None) -> str | None:
    """`en-US` -> `en`; None when no hint was given."""
    if not value:
        return None
    match = _LANGUAGE.match(value.strip().lower())
    if match is None:
        raise errors.InvalidRequest("`language` must be a language code such as en or en-US.")
    return match.group(1)
