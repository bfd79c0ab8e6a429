"""Which optional speech pieces this install has, found without importing them."""

from __future__ import annotations

import importlib.util
import shutil


def installed(module: str) -> bool:
    """True when `module` can be imported (nothing is imported to find out)."""
    return importlib.util.find_spec(module) is not None


def pyav_installed() -> bool:
    """PyAV (FFmpeg's libraries), brought by the `whisper` extra: decoding and MP3 encoding."""
    return installed("av")


def whisper_installed() -> bool:
    """faster-whisper, from the `whisper` extra."""
    return installed("faster_whisper") and pyav_installed()


def piper_installed() -> bool:
    """piper-tts, from the `piper` extra."""
    return installed("piper")


def espeak_binary() -> str | None:
    """The path of the `espeak-ng` command (a system package), if it is on PATH."""
    return shutil.which("espeak-ng")
