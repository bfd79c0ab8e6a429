"""Streamable WAV framing and incremental MP3 encoding of local engines' PCM."""

from __future__ import annotations

import struct

import numpy as np

from parley.speech.pcm import (
    UNKNOWN_SIZE,
    WavEncoder,
    local_formats,
    parse_wav_header,
    pcm_encoder,
    wav_header,
)
from tests.speech.audio import decode_pcm


def tone(seconds: float, rate: int = 22_050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()


def test_wav_header_says_the_length_is_unknown() -> None:
    header = wav_header(22_050)
    assert len(header) == 44
    assert struct.unpack("<I", header[4:8])[0] == UNKNOWN_SIZE
    assert struct.unpack("<I", header[40:44])[0] == UNKNOWN_SIZE
    assert parse_wav_header(header) == (22_050, 1, 2)


def test_parse_wav_header_refuses_what_is_not_pcm_wav() -> None:
    assert parse_wav_header(b"RIFF") is None
    assert parse_wav_header(b"\0" * 44) is None


def test_wav_stream_is_header_then_samples_and_decodes_whole() -> None:
    encoder = WavEncoder(22_050)
    body = encoder.encode(tone(0.5)) + encoder.encode(tone(0.25)) + encoder.flush()
    assert body[:4] == b"RIFF" and body.count(b"WAVEfmt ") == 1
    assert decode_pcm(body) == (22_050, int(0.5 * 22_050) + int(0.25 * 22_050))


def test_wav_stream_with_no_speech_is_still_a_wav_file() -> None:
    assert WavEncoder(16_000).flush() == wav_header(16_000)


def test_mp3_is_encoded_piece_by_piece_and_decodes() -> None:
    assert "mp3" in local_formats()
    encoder = pcm_encoder("mp3", 22_050)
    first = encoder.encode(tone(1.0))
    # Most of the first second is out before the second piece goes in: it can stream.
    assert len(first) > 4_000
    body = first + encoder.encode(tone(1.0)) + encoder.flush()
    rate, samples = decode_pcm(body)
    assert rate == 22_050
    assert abs(samples - 2 * 22_050) < 2_000  # MP3 pads a frame or two


def test_mp3_encoder_accepts_an_empty_piece() -> None:
    encoder = pcm_encoder("mp3", 22_050)
    assert encoder.encode(b"") == b""
    assert encoder.flush() == b""
