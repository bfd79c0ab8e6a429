"""POST /api/transcribe: one recorded utterance (multipart field `audio`) in, its words out."""

from __future__ import annotations

import re
from typing import Literal, cast

from fastapi import APIRouter, Request
from pydantic import BaseModel

from parley import errors
from parley.deps import (
    AccessDep,
    AdmitDep,
    BearerKeyDep,
    ClientDep,
    GoneDep,
    JobsDep,
    KeysDep,
    SettingsDep,
    SpeechDep,
    person_key,
)
from parley.security.local_jobs import unless_gone
from parley.speech import extras
from parley.speech.base import too_long_message
from parley.speech.choice import choose_engine
from parley.speech.formats import (
    CONTAINERS,
    EXTENSIONS,
    MEDIA_TYPES,
    SNIFF_BYTES,
    UNLABELLED,
    Container,
    base_type,
    declared_container,
    sniff,
    without_repeated_boxes,
)
from parley.speech.upload import read_upload

router = APIRouter()

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


@router.post(
    "/api/transcribe",
    response_model=TranscriptOut,
    openapi_extra=UPLOAD_SCHEMA,
    responses={413: {"description": "The recording is too large."},
               415: {"description": "Not an accepted audio type."},
               422: {"description": "The recording could not be read."}},
)
async def transcribe(
    access: AccessDep,
    request: Request,
    settings: SettingsDep,
    keys: KeysDep,
    admission: AdmitDep,
    client: ClientDep,
    jobs: JobsDep,
    gone: GoneDep,
    speech: SpeechDep,
    bearer: BearerKeyDep,
) -> TranscriptOut:
    """Turn one recorded utterance into text."""
    # The client's budget before a byte of the upload is read.
    await admission.client(client)
    upload = await read_upload(
        request.headers, request.stream(), max_audio_bytes=settings.max_audio_bytes
    )
    language = language_hint(upload.fields.get("language"))
    provider = _provider(upload.fields.get("provider"))
    container = check_audio(upload.audio, upload.content_type)
    # WebKitGTK's recordings repeat boxes that FFmpeg cannot read past (see formats.py).
    audio = without_repeated_boxes(upload.audio) if container == "mp4" else upload.audio
    check_length(audio, container, settings.max_audio_seconds)
    choice = choose_engine(
        "stt",
        openai=speech.openai_stt,
        local=speech.local_stt,
        explicit=provider,
        user_key=person_key(upload.fields.get("apiKey"), bearer),
        access=access,
        keys=keys,
    )
    await admission.key(choice.api_key)
    work = choice.engine.transcribe(
        audio,
        content_type=MEDIA_TYPES[container],
        filename=f"recording.{EXTENSIONS[container]}",
        api_key=choice.api_key,
        language=language,
    )
    if choice.api_key is None:
        # The offline Whisper is shared: one recording per client at a time, and one still
        # waiting when its client hangs up is dropped (a running one is stopped).
        async with jobs.slot(client, "stt", gone):
            transcript = await unless_gone(work, gone)
    else:
        transcript = await work
    return TranscriptOut(
        text=transcript.text, language=transcript.language, duration_ms=transcript.duration_ms
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


def check_length(audio: bytes, container: Container, max_seconds: float) -> None:
    """422 audio_too_long for a recording longer than the operator allows, when its length
    can be read without decoding (the offline engine checks again as it decodes)."""
    if not extras.pyav_installed():
        return
    from parley.speech.codec import probe_duration_ms

    duration = probe_duration_ms(audio, container)
    if duration is not None and duration > max_seconds * 1000:
        raise errors.AudioTooLong(too_long_message(max_seconds))


def _provider(value: str | None) -> Literal["openai", "local"] | None:
    if not value:
        return None
    if value not in ("openai", "local"):
        raise errors.InvalidRequest("`provider` must be openai or local, or left out.")
    return cast(Literal["openai", "local"], value)


def language_hint(value: str | None) -> str | None:
    """`en-US` -> `en`; None when no usable hint was given.

    A hint is only a hint: a browser under `LANG=C` reports its language as "C" (WebKitGTK
    does), and a turn must never be lost over it, so an unusable one is dropped.
    """
    if not value:
        return None
    match = _LANGUAGE.match(value.strip().lower())
    return match.group(1) if match is not None else None
