"""Parley's settings: one pydantic-settings class; nothing else reads the environment."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
# An access code is a shared password for the operator's money: short ones are guessed.
MIN_ACCESS_CODE = 12
# Names that only ever mean this machine; the host allowlist always includes them.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _split_csv(value: object) -> object:
    # The contract says comma-separated plain strings, not JSON lists, for list settings.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def is_loopback_host(host: str) -> bool:
    """True when `host` (a name or an address) only means this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything an operator can set, from `PARLEY_*` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="PARLEY_", extra="ignore", populate_by_name=True, frozen=True
    )

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    # OpenAI-compatible upstream (operator configuration, never request data)
    openai_base_url: str = DEFAULT_OPENAI_BASE_URL
    # The first model is the default; the rest are the allowlist a request may pick from.
    openai_model: Annotated[list[str], NoDecode] = ["gpt-4.1-mini"]
    openai_api_key: SecretStr | None = None
    access_code: SecretStr | None = None
    # Local development only: the operator key without an access code, for requests from
    # this machine (loopback) alone.
    operator_key_loopback: bool = False
    # The models that can see pictures (comma-separated); empty: every model in
    # PARLEY_OPENAI_MODEL.
    openai_vision_models: Annotated[list[str], NoDecode] = []
    openai_transcribe_model: str = "gpt-4o-mini-transcribe"
    openai_speech_model: str = "gpt-4o-mini-tts"
    openai_voice: str = "marin"
    realtime_model: str = "gpt-realtime"
    realtime_voice: str = "marin"
    realtime_turn_detection: Literal["semantic_vad", "server_vad"] = "semantic_vad"
    realtime_eagerness: Literal["low", "medium", "high", "auto"] = "low"
    # Whether a realtime call can be shown pictures: "auto" decides from the model's name
    # (parley.images.vision.realtime_sees); "on"/"off" for a compatible server's own models.
    realtime_vision: Literal["auto", "on", "off"] = "auto"

    # Timeouts, in seconds
    connect_timeout: float = Field(default=5.0, gt=0)
    first_token_timeout: float = Field(default=20.0, gt=0)
    total_timeout: float = Field(default=120.0, gt=0)
    # A whole recorded turn (up to about two minutes of audio) transcribed upstream.
    transcribe_timeout: float = Field(default=45.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=5)
    retry_budget: float = Field(default=8.0, ge=0)

    # Embedded models
    local_model: str = "auto"
    local_threads: int = Field(default=0, ge=0)
    local_max_tokens: int = Field(default=160, ge=16, le=2048)
    local_queue_timeout: float = Field(default=15.0, ge=0)
    # Let the small model reword the design notes (under a drift guard); off, the notes are
    # said as written.
    local_rephrase: bool = False
    # Offer the design notes' best topic to the OpenAI-compatible model as optional context.
    knowledge_context: bool = False
    local_stt: Literal["auto", "off"] = "auto"
    local_tts: Literal["auto", "piper", "espeak", "off"] = "auto"

    # Conversation limits
    history_budget_chars: int = Field(default=12_000, ge=500)
    max_message_chars: int = Field(default=4_000, ge=1)
    max_history_messages: int = Field(default=200, ge=0)
    max_body_bytes: int = Field(default=512 * 1024, ge=1024)
    max_audio_bytes: int = Field(default=4_000_000, ge=1024)
    # Requests that may carry pictures (a turn, a brief): the pictures are downscaled in the
    # browser to a few hundred KB, and refused past 5 MB each whatever this allows.
    max_image_body_bytes: int = Field(default=8_000_000, ge=1024)
    max_speech_chars: int = Field(default=1_000, ge=1)
    # The recorder sends at most about 110 s; Whisper is never given more than this.
    max_audio_seconds: float = Field(default=120.0, gt=0, le=600)
    brief_max_tokens: int = Field(default=600, ge=64, le=4096)

    # Abuse limits (the `limits` library's notation)
    rate_limit_per_client: str = "60/minute"
    rate_limit_per_key: str = "120/minute"
    # Calls the operator pays for, per person (device, else address): everyone behind the
    # access code shares the operator key's budget otherwise.
    rate_limit_per_person: str = "30/minute"
    # Realtime calls run browser to OpenAI, out of Parley's sight, for up to 30 minutes: the
    # number started per person in that time bounds how many run at once.
    realtime_calls_per_person: str = "3/30minutes"
    max_concurrent_streams: int = Field(default=512, ge=1)
    max_stream_seconds: float = Field(default=180.0, gt=0)

    # Web and proxies
    allowed_origins: Annotated[list[str], NoDecode] = []
    # Host names this server answers to, besides loopback; ".example.com" covers subdomains.
    allowed_hosts: Annotated[list[str], NoDecode] = []
    # Vercel names each deployment itself; its addresses are allowed hosts there.
    vercel_url: str | None = Field(default=None, validation_alias="VERCEL_URL")
    vercel_production_url: str | None = Field(
        default=None, validation_alias="VERCEL_PROJECT_PRODUCTION_URL"
    )
    trusted_proxies: Annotated[list[str], NoDecode] = []
    https_redirect: bool = False

    # Storage
    database_url: SecretStr | None = None
    database_migrate_on_start: bool = False
    redis_url: SecretStr | None = None
    # Per owner: conversations kept, and messages in one conversation.
    history_max_sessions: int = Field(default=500, ge=1)
    history_max_messages: int = Field(default=2_000, ge=2)
    # Per owner: projects kept, and bytes of pictures kept with their messages (the
    # re-encoded data URLs as stored; decimal megabytes, as file browsers count).
    history_max_projects: int = Field(default=200, ge=1)
    history_max_image_bytes: int = Field(default=50_000_000, ge=0)
    clerk_issuer: str | None = None
    clerk_jwks_url: str | None = None
    clerk_authorized_parties: Annotated[list[str], NoDecode] = []

    # Observability
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    metrics_enabled: bool = False
    # The Bearer token /metrics asks for; without one, only this machine may read it.
    metrics_token: SecretStr | None = None
    sentry_dsn: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SENTRY_DSN", "PARLEY_SENTRY_DSN")
    )

    @field_validator(
        "openai_model",
        "openai_vision_models",
        "allowed_origins",
        "allowed_hosts",
        "trusted_proxies",
        "clerk_authorized_parties",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "openai_api_key", "access_code", "database_url", "redis_url", "sentry_dsn",
        "clerk_issuer", "clerk_jwks_url", "metrics_token", "vercel_url",
        "vercel_production_url", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `KEY=` in an env file or compose means "not set", not "set to nothing".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("openai_model")
    @classmethod
    def _models_present(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("PARLEY_OPENAI_MODEL needs at least one model name")
        return value

    @field_validator("openai_base_url", "clerk_jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.strip().rstrip("/")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*":
                raise ValueError("PARLEY_ALLOWED_ORIGINS must list origins; '*' is not allowed")
            parts = urlsplit(origin)
            bad_path = parts.path not in ("", "/")
            if parts.scheme not in ("http", "https") or not parts.netloc or bad_path:
                raise ValueError(f"{origin!r} is not an origin like https://app.example")
        return [origin.rstrip("/") for origin in value]

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        hosts = []
        for host in value:
            name = host.strip().lower()
            if name == "*" or "/" in name or (":" in name.strip("[]") and "." in name):
                raise ValueError(
                    f"{host!r} is not a host name: list names like parley.example or "
                    ".example.com (no scheme, no port, no '*')"
                )
            hosts.append(name)
        return hosts

    @field_validator("access_code")
    @classmethod
    def _long_code(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ACCESS_CODE:
            raise ValueError(
                f"PARLEY_ACCESS_CODE must be at least {MIN_ACCESS_CODE} characters: a "
                "short code can be guessed"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("PARLEY_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @model_validator(mode="after")
    def _operator_key_needs_access_code(self) -> Settings:
        # Where Parley listens is the ASGI server's business (uvicorn --host, Vercel...),
        # not something the app can know: an operator key without a code would let anyone
        # who reaches it spend the operator's money. The development opt-out is enforced
        # per request: only loopback clients may use the key then.
        if self.openai_api_key and not self.access_code:
            if not self.operator_key_loopback:
                raise ValueError(
                    "PARLEY_OPENAI_API_KEY needs PARLEY_ACCESS_CODE, so only people with the "
                    "code can spend it (for local development only, "
                    "PARLEY_OPERATOR_KEY_LOOPBACK=true lets this machine use it without one)"
                )
            if not is_loopback_host(self.host):
                raise ValueError(
                    "PARLEY_OPERATOR_KEY_LOOPBACK is for local development: Parley listens on "
                    "a non-loopback host, so set PARLEY_ACCESS_CODE instead"
                )
        return self

    @property
    def hosts(self) -> frozenset[str]:
        """Every host name this server answers to."""
        extra = [urlsplit(f"//{url}").hostname or "" for url in
                 (self.vercel_url, self.vercel_production_url) if url]
        return frozenset([*LOOPBACK_NAMES, *self.allowed_hosts, *extra])

    @property
    def vision_models(self) -> frozenset[str]:
        """The OpenAI-compatible models that may be sent pictures."""
        return frozenset(self.openai_vision_models or self.openai_model)

    @property
    def default_openai_model(self) -> str:
        return self.openai_model[0]

    @property
    def turn_seconds(self) -> float:
        """The longest one answer may stream: the upstream's budget or the stream cap."""
        return min(self.total_timeout, self.max_stream_seconds)
