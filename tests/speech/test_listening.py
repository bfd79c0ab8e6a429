"""A live turn heard by the server's VAD: speech and pauses where they really are."""

from __future__ import annotations

import pytest

from parley import errors
from parley.speech.listening import FRAME, Event, Listening
from parley.speech.vad import SileroVad
from tests.speech.audio import spoken_pcm

pytestmark = pytest.mark.speech_models


def heard(pcm: bytes, chunk: int = 1024, max_seconds: float = 60) -> tuple[Listening, list[Event]]:
    turn = Listening(SileroVad(), max_seconds=max_seconds)
    events = []
    for start in range(0, len(pcm), chunk):  # as the page sends it, a frame at a time
        events += turn.feed(pcm[start:start + chunk])
    return turn, events


def test_speech_and_pauses_are_where_they_are() -> None:
    pcm = spoken_pcm(0.5, "The onboarding has seven steps", 1.2, "and the first asks for income",
                     1.0)
    _, events = heard(pcm)
    kinds = [e.kind for e in events]
    assert kinds == ["speech", "pause", "speech", "pause"]
    first_speech, first_pause, second_speech, _ = events
    assert 350 <= first_speech.at_ms <= 700  # after half a second of silence
    # The pause is told 200 ms into the silence; the second phrase after the 1.2 s gap.
    assert second_speech.at_ms - first_pause.at_ms >= 800
    assert first_pause.audio is not None and first_pause.audio.size > 16_000  # the phrase


def test_silence_around_the_speech_is_trimmed() -> None:
    pcm = spoken_pcm(2.0, "What do you think?", 2.0)
    turn, _ = heard(pcm)
    whole = len(pcm) // 2
    assert turn.heard_speech
    assert turn.trimmed().size < whole - 3 * 16_000  # most of the 4 s of silence is gone
    assert turn.trimmed().size > 16_000 // 2  # the words are not


def test_silence_alone_is_no_speech() -> None:
    turn, events = heard(spoken_pcm(3.0))
    assert events == [] and not turn.heard_speech and turn.trimmed().size == 0


def test_a_turn_past_the_cap_is_refused() -> None:
    with pytest.raises(errors.AudioTooLong):
        heard(spoken_pcm(2.5), max_seconds=2)


def test_frames_are_whatever_size_they_come() -> None:
    pcm = spoken_pcm("Hello there", 0.5)
    _, small = heard(pcm, chunk=2 * 100)
    _, large = heard(pcm, chunk=2 * FRAME * 7)
    assert [e.kind for e in small] == [e.kind for e in large]
