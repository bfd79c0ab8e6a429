"""turn-end.js under Node, in simulated time: scripted words and silences, no clock."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from parley.app import web_root

MODULE = (web_root() / "js" / "voice" / "turn-end.js").as_uri()
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def node(body: str) -> Any:
    """Run `body` (JavaScript with turn-end.js's exports in scope) and return what it prints."""
    assert NODE is not None
    script = f"import {{ createTurnEnd, isBackchannel }} from {json.dumps(MODULE)};\n{body}"
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_long_pause_after_and_does_not_end_the_turn() -> None:
    decision = node("""
        const turn = createTurnEnd();
        turn.start();
        turn.heard("so the onboarding has seven steps and", 1000);
        turn.heard("so the onboarding has seven steps and", 1700, { final: true });
        console.log(JSON.stringify(turn.decide(3500)));
    """)
    assert decision["end"] is False
    assert decision["cue"] == 'trailing "and"'
    assert decision["silentMs"] == 2500


def test_a_complete_question_then_800_ms_of_silence_ends_the_turn() -> None:
    decision = node("""
        const turn = createTurnEnd();
        turn.start();
        turn.heard("our checkout has five screens", 1000, { final: true });
        turn.heard("our checkout has five screens where would you cut", 3000);
        console.log(JSON.stringify(turn.decide(3800)));
    """)
    assert decision["end"] is True
    assert decision["cue"] == "complete question"
    assert "complete question" in decision["reason"]


def test_a_hand_over_ends_sooner_than_a_statement() -> None:
    waits = node("""
        const turn = createTurnEnd();
        const ms = (text) => turn.waitFor(text).ms;
        console.log(JSON.stringify([ms("that's it"), ms("it feels busy to me"),
                                    ms("the first one asks for, um")]));
    """)
    handover, statement, filler = waits
    assert handover < statement <= filler


def test_the_page_is_told_when_to_ask_again() -> None:
    decision = node("""
        const turn = createTurnEnd();
        turn.start();
        turn.heard("what do you think", 1000);
        console.log(JSON.stringify(turn.decide(1100)));
    """)
    assert decision["end"] is False
    assert decision["inMs"] == decision["waitMs"] - 100


def test_long_pauses_between_sentences_earn_more_patience_and_are_kept() -> None:
    waits = node("""
        const turn = createTurnEnd({ sentenceMs: 1200, sentenceMaxMs: 3000 });
        for (let i = 0; i < 12; i += 1) turn.learn(2600, "sentence");
        const kept = createTurnEnd({ sentenceMs: 1200, sentenceMaxMs: 3000,
                                     stats: JSON.parse(JSON.stringify(turn.exportStats())) });
        const cold = createTurnEnd({ sentenceMs: 1200, sentenceMaxMs: 3000 });
        console.log(JSON.stringify([cold.waitFor("it feels busy").ms,
                                    kept.waitFor("it feels busy").ms]));
    """)
    cold, learned = waits
    assert learned > cold


def test_a_turn_ended_too_soon_teaches_patience() -> None:
    waits = node("""
        const turn = createTurnEnd({ sentenceMs: 1200, sentenceMaxMs: 3000, priorWeight: 1 });
        const before = turn.waitFor("it feels busy").ms;
        turn.start();
        turn.heard("it feels busy", 1000);
        turn.resumed(3400); // the person went on 2.4 s later: that was a pause, not an end
        console.log(JSON.stringify([before, turn.waitFor("it feels busy").ms]));
    """)
    before, after = waits
    assert after > before


def test_waiting_for_a_transcript_holds_the_turn_open() -> None:
    decisions = node("""
        const turn = createTurnEnd();
        turn.start();
        turn.voice(1000);
        turn.awaitWords(1000);
        const waiting = turn.decide(2500);
        turn.heard("what do you think?", 1300, { spokeAtMs: 1000, final: true });
        console.log(JSON.stringify([waiting, turn.decide(1600)]));
    """)
    waiting, answered = decisions
    assert waiting["end"] is False and waiting["reason"] == "waiting for the words"
    assert answered["end"] is True and answered["cue"] == "hand-over"


def test_other_languages_fall_back_on_pause_lengths() -> None:
    decision = node("""
        const turn = createTurnEnd({ lang: "de-DE" });
        console.log(JSON.stringify(turn.waitFor("und dann haben wir sieben Schritte und")));
    """)
    assert decision["cue"] == "not English: learned pauses"


@pytest.mark.parametrize(
    ("said", "speech_ms", "backchannel"),
    [
        ("mm-hmm", 400, True),
        ("yeah", 300, True),
        ("okay, right", 700, True),
        ("(laughs)", 900, True),
        (None, 350, True),  # a cough with no recognizer: too short to be words
        ("wait, that's not what I meant", 1500, False),
        ("stop", 300, False),
        ("the second one sounds better", 1200, False),
        (None, 900, False),
    ],
)
def test_backchannels_are_not_interruptions(
    said: str | None, speech_ms: int, backchannel: bool
) -> None:
    verdict = node(f"console.log(JSON.stringify(isBackchannel({json.dumps(said)}, {speech_ms})));")
    assert verdict["backchannel"] is backchannel, verdict["reason"]
