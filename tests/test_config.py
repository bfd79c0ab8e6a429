"""Settings: environment names, normalisation and unsafe combinations refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.config import Settings


def test_defaults_are_safe() -> None:
    settings = Settings()
    assert settings.host == "127.0.0.1" and settings.port == 8000
    assert settings.openai_base_url == "https://api.openai.com/v1"
    assert settings.allowed_origins == []
    assert settings.local_model == "auto"


def test_environment_names_follow_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1/")
    monkeypatch.setenv("PARLEY_OPENAI_MODEL", "llama3.2, qwen2.5")
    monkeypatch.setenv("PARLEY_ALLOWED_ORIGINS", "https://a.example,https://b.example/")
    monkeypatch.setenv("PARLEY_OPENAI_API_KEY", "sk-op")
    monkeypatch.setenv("PARLEY_ACCESS_CODE", "a-long-enough-code")
    monkeypatch.setenv("PARLEY_LOG_FORMAT", "json")
    monkeypatch.setenv("SENTRY_DSN", "https://public@sentry.example/1")
    settings = Settings()
    assert settings.openai_base_url == "http://127.0.0.1:11434/v1"
    assert settings.openai_model == ["llama3.2", "qwen2.5"]
    assert settings.default_openai_model == "llama3.2"
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-op"
    assert "sk-op" not in repr(settings)
    assert settings.log_format == "json"
    assert settings.sentry_dsn is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"allowed_origins": "*"},
        {"allowed_origins": "example.com"},
        {"openai_base_url": "ftp://x"},
        {"openai_model": ""},
        {"log_level": "LOUD"},
        {"openai_api_key": "sk-op", "host": "0.0.0.0"},
        # An operator key always needs a code, wherever the ASGI server listens...
        {"openai_api_key": "sk-op"},
        # ...the development opt-out is for loopback only...
        {"openai_api_key": "sk-op", "operator_key_loopback": "true", "host": "0.0.0.0"},
        # ...and a short code is guessable.
        {"openai_api_key": "sk-op", "access_code": "short-code"},
        {"allowed_hosts": "*"},
        {"allowed_hosts": "https://parley.example"},
    ],
)
def test_unsafe_or_malformed_settings_are_refused(overrides: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(**overrides)  # type: ignore[arg-type]


def test_operator_key_on_a_public_host_needs_an_access_code() -> None:
    settings = Settings(openai_api_key="sk-op", host="0.0.0.0", access_code="a-long-enough-code")  # type: ignore[arg-type]
    assert settings.access_code is not None


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PARLEY_OPENAI_API_KEY", "PARLEY_ACCESS_CODE", "PARLEY_DATABASE_URL",
                 "PARLEY_REDIS_URL", "SENTRY_DSN"):
        monkeypatch.setenv(name, "")
    settings = Settings(host="0.0.0.0")
    assert settings.openai_api_key is None and settings.access_code is None
    assert settings.database_url is None and settings.redis_url is None
    assert settings.sentry_dsn is None


def test_the_development_opt_out_on_loopback_is_allowed() -> None:
    settings = Settings(openai_api_key="sk-op", operator_key_loopback=True)  # type: ignore[arg-type]
    assert settings.operator_key_loopback


def test_vercel_names_are_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERCEL_URL", "parley-abc123.vercel.app")
    monkeypatch.setenv("PARLEY_ALLOWED_HOSTS", "parley.example")
    hosts = Settings().hosts
    assert {"parley-abc123.vercel.app", "parley.example", "localhost", "127.0.0.1"} <= hosts
