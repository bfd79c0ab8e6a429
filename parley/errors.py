"""Parley's small error hierarchy. Each error knows its HTTP status, code and a fix-it message.

Errors are raised anywhere and rendered in exactly one place (`parley.routes.errors`).
Messages speak to the person and never carry a key or any part of one.
"""

from __future__ import annotations

from typing import ClassVar


class ParleyError(Exception):
    """Base class: `code` is stable and machine-readable, the message is for a person."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Something went wrong on our side. Please try again."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        self.message = message or self.default_message
        self.retry_after = retry_after
        super().__init__(self.message)


class InvalidRequest(ParleyError):
    status = 422
    code = "invalid_request"
    default_message = "The request was not understood. Check the fields and try again."


class PayloadTooLarge(ParleyError):
    status = 413
    code = "payload_too_large"
    default_message = "That request is too large. Send a shorter message or a shorter recording."


class UnsupportedMediaType(ParleyError):
    status = 415
    code = "unsupported_media_type"
    default_message = "That file type is not supported. Send mp4, webm, ogg, wav or mp3 audio."


class ApiKeyRequired(ParleyError):
    status = 401
    code = "api_key_required"
    default_message = (
        "Add your OpenAI API key in Settings, or install the offline model to talk without one."
    )


class InvalidApiKey(ParleyError):
    status = 401
    code = "invalid_api_key"
    default_message = "OpenAI rejected this API key. Check it in Settings."


class AccessCodeRequired(ParleyError):
    status = 401
    code = "access_code_required"
    default_message = "Enter the access code in Settings, or add your own OpenAI API key."


class NotFound(ParleyError):
    status = 404
    code = "not_found"
    default_message = "That was not found."


class RateLimited(ParleyError):
    status = 429
    code = "rate_limited"
    default_message = "You are going a bit fast. Wait a moment and try again."


class TooManyAttempts(ParleyError):
    status = 429
    code = "too_many_attempts"
    default_message = (
        "Too many wrong access codes from here. Wait a while and try again, "
        "or use your own OpenAI API key."
    )


class UpstreamRateLimited(ParleyError):
    status = 429
    code = "upstream_rate_limited"
    default_message = (
        "OpenAI says this key is over its rate limit or quota. Wait a moment, "
        "or check your plan and billing."
    )


class ModelNotAllowed(ParleyError):
    status = 422
    code = "model_not_allowed"
    default_message = "That model is not available here. Pick one of the models in Settings."


class ProviderUnavailable(ParleyError):
    status = 422
    code = "provider_unavailable"
    default_message = "That provider is not available on this server. Pick another in Settings."


class UpstreamRejected(ParleyError):
    """The model service refused the request for a reason the person can act on."""

    status = 422
    code = "upstream_rejected"
    default_message = "The model service refused this request. Try rephrasing or another model."


class UpstreamError(ParleyError):
    status = 502
    code = "upstream_error"
    default_message = "The model service had a problem. Please try again in a moment."


class UpstreamTimeout(ParleyError):
    status = 504
    code = "upstream_timeout"
    default_message = "The model took too long to answer. Please try again."


class ModelBusy(ParleyError):
    status = 503
    code = "model_busy"
    default_message = "The offline model is busy with another answer. Try again in a few seconds."


class ServerBusy(ParleyError):
    status = 503
    code = "server_busy"
    default_message = "Parley is very busy right now. Try again in a few seconds."


class StreamTooLong(ParleyError):
    status = 504
    code = "stream_too_long"
    default_message = "That answer ran too long and was stopped. Ask for something shorter."


class HistoryOff(ParleyError):
    status = 404
    code = "storage_disabled"
    default_message = "Server history is off on this server; conversations stay on your device."


class StorageUnavailable(ParleyError):
    status = 503
    code = "storage_unavailable"
    default_message = (
        "Server history can't be reached right now. Your conversations are safe on this "
        "device; try again in a moment."
    )

    def __init__(self, message: str | None = None, *, retry_after: float | None = 5) -> None:
        super().__init__(message, retry_after=retry_after)


class HistoryFull(ParleyError):
    status = 409
    code = "history_full"
    default_message = (
        "The server keeps no more for you: delete old conversations to keep new ones there. "
        "This one stays on your device."
    )


class AudioUnreadable(ParleyError):
    status = 422
    code = "audio_unreadable"
    default_message = "That recording could not be read. Try recording again."


class AudioTooLong(ParleyError):
    status = 422
    code = "audio_too_long"
    default_message = "That recording is too long. Say it in a few shorter turns."


class SpeechUnavailable(ParleyError):
    status = 503
    code = "speech_unavailable"
    default_message = (
        "Server speech is not available here. Add an OpenAI API key, or install parley[speech]."
    )


class Unauthenticated(ParleyError):
    status = 401
    code = "unauthenticated"
    default_message = "Sign in again to see your conversations."


class InvalidDevice(ParleyError):
    status = 400
    code = "invalid_device"
    default_message = (
        "This device's history key is malformed: it must be 64 hex or 43 base64url "
        "characters. Clear this site's data in the browser to make a new one."
    )


class SignInUnavailable(ParleyError):
    status = 503
    code = "sign_in_unavailable"
    default_message = "Your sign-in could not be checked right now. Try again in a moment."


class UnsupportedImage(ParleyError):
    status = 415
    code = "unsupported_image"
    default_message = "That file isn't a picture Parley can read. Send a PNG, JPEG, WebP or HEIC."


class ImageTooLarge(ParleyError):
    status = 422
    code = "image_too_large"
    default_message = (
        "That picture has too many pixels for Parley. Send a screenshot or a smaller photo."
    )


class TooManyImages(InvalidRequest):
    """More pictures than a turn or a request may carry: a malformed request, 422."""

    default_message = "That is too many pictures at once. Send up to 4 with a message."


class VisionUnavailable(ParleyError):
    status = 422
    code = "vision_unavailable"
    default_message = (
        "This model can't see pictures. Pick a model that can in Settings, or describe it in words."
    )


class BriefUnavailable(ParleyError):
    status = 502
    code = "brief_unavailable"
    default_message = (
        "The brief could not be updated just now; it is kept as it was. "
        "It will catch up after your next turn."
    )
