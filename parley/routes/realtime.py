"""POST /api/realtime/session: a short-lived Realtime secret, minted with the person's key.

The browser then talks to OpenAI over WebRTC with that `ek_` secret; the key itself never
leaves this server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from parley import errors
from parley.config import Settings
from parley.conversation.persona import Mode, system_prompt
from parley.deps import (
    AccessDep,
    AdmitDep,
    BearerKeyDep,
    ClientDep,
    KeysDep,
    OpenAIDep,
    PersonDep,
    RecordDep,
    SettingsDep,
    person_key,
)
from parley.providers.upstream import translate_openai_error
from parley.routes.schemas import ApiKey
from parley.security.ratelimit import Budget
from parley.text import CleanText

if TYPE_CHECKING:
    from openai.types.realtime import (
        RealtimeAudioInputTurnDetectionParam,
        RealtimeSessionCreateRequestParam,
    )

log = logging.getLogger(__name__)
router = APIRouter()

# Long enough to grant the microphone and connect (a started call outlives its secret); a
# leaked secret is worth a minute, not ten.
SECRET_SECONDS: Final = 60
# The Realtime API's built-in voices (GA).
VOICES: Final = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
TOO_MANY_CALLS: Final = (
    "You have started several realtime calls in a short time. Wait a few minutes, or switch "
    "the conversation style to Step by step."
)
NO_KEY: Final = (
    "Realtime voice needs an OpenAI API key. Add yours in Settings, "
    "or switch the conversation style to Step by step."
)


class RealtimeSessionIn(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    api_key: ApiKey | None = Field(
        default=None, alias="apiKey", max_length=500,
        description="The person's OpenAI key; may also come as `Authorization: Bearer`.",
    )
    mode: Mode = "sparring"
    voice: CleanText | None = Field(
        default=None, max_length=100, description="A Realtime voice; the server's default if unset."
    )


class RealtimeSessionOut(BaseModel):
    client_secret: str = Field(description="The `ek_` secret for the WebRTC call, short-lived.")
    expires_at: int = Field(description="When the secret stops working, in Unix seconds.")
    webrtc_url: str = Field(description="Where the browser posts its SDP offer.")
    model: str
    vision: bool = Field(
        description="Whether this call's model can be shown pictures (`input_image` parts)."
    )


@router.post("/api/realtime/session", response_model=RealtimeSessionOut)
async def realtime_session(
    access: AccessDep,
    body: RealtimeSessionIn,
    response: Response,
    settings: SettingsDep,
    keys: KeysDep,
    admission: AdmitDep,
    upstream: OpenAIDep,
    client: ClientDep,
    person: PersonDep,
    record: RecordDep,
    bearer: BearerKeyDep,
) -> RealtimeSessionOut:
    """Mint a client secret for one realtime voice call in the chosen mode."""
    voice = check_voice(body.voice, settings)
    # The person's key (body, then Bearer), else the operator's behind the access code.
    payer = keys.require(
        person_key(body.api_key, bearer), access, missing=errors.ApiKeyRequired(NO_KEY)
    )
    record.provider_attempted = "openai"
    operator = payer.source == "operator"
    await admission.check(client, payer.key, operator_person=person if operator else None)
    if operator:
        # Calls run browser to OpenAI, where Parley cannot see them end: how many one
        # person starts on the operator's key in half an hour bounds how many run at once.
        await admission.spend(
            Budget.of("realtime", settings.realtime_calls_per_person), person, TOO_MANY_CALLS
        )
    import openai  # loaded by the lifespan already; kept out of app creation (cold start)

    try:
        secret = await upstream.with_options(api_key=payer.key).realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": SECRET_SECONDS},
            session=session_config(settings, body.mode, voice),
            # Minting is one quick call: a stuck upstream must not leave the phone connecting
            # for the whole reply budget.
            timeout=settings.first_token_timeout,
        )
    except openai.OpenAIError as exc:
        raise translate_openai_error(exc) from None
    # Not at import: parley.images brings Pillow, which app creation does without.
    from parley.images.vision import realtime_sees

    log.info("realtime secret minted (model %s, mode %s)", settings.realtime_model, body.mode)
    # The secret is a credential for ten minutes: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return RealtimeSessionOut(
        client_secret=secret.value,
        expires_at=secret.expires_at,
        webrtc_url=f"{settings.openai_base_url}/realtime/calls",
        model=settings.realtime_model,
        vision=realtime_sees(settings.realtime_model, settings.realtime_vision),
    )


def check_voice(voice: str | None, settings: Settings) -> str:
    """The voice to speak with; 422 naming the choices for one the Realtime API lacks."""
    if voice is None or voice == settings.realtime_voice:
        return settings.realtime_voice
    if voice not in VOICES:
        raise errors.InvalidRequest(
            f"There is no realtime voice called {voice!r}. "
            f"Pick one of: {', '.join(sorted(VOICES))}."
        )
    return voice


def session_config(settings: Settings, mode: Mode, voice: str) -> RealtimeSessionCreateRequestParam:
    """The Realtime session: the mode's designer persona, the voice, transcripts, turn-taking."""
    turn_detection: RealtimeAudioInputTurnDetectionParam
    if settings.realtime_turn_detection == "semantic_vad":
        # Low eagerness waits up to 8 s in a pause: people thinking aloud are not done yet.
        turn_detection = {"type": "semantic_vad", "eagerness": settings.realtime_eagerness}
    else:
        turn_detection = {"type": "server_vad"}
    return {
        "type": "realtime",
        "model": settings.realtime_model,
        "instructions": system_prompt(mode),
        "audio": {
            "input": {
                # The person's words as text, for the transcript kept on the device.
                "transcription": {"model": settings.openai_transcribe_model},
                "turn_detection": turn_detection,
            },
            "output": {"voice": voice},
        },
    }
