"""End-of-turn benchmark: `python -m bench.turns.run`.

Drives parley/web/js/voice/turn-end.js (under Node, simulated time) with the spoken corpus of
bench/turns/corpus.py on both listening paths, beside today's fixed 1.5 s timer:

- browser path: scripted Web Speech API results with the corpus's real word timing;
- recorder path: the real audio through a VAD frame by frame, with or without quick Whisper
  transcripts at each pause.

The policy's constants were tuned on the `tune` half of the turns (`--tune` repeats the
search); the figures that count are on the held-out `test` half. Also: a VAD comparison and
barge-in figures for `isBackchannel`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.turns import barge, corpus, simulate, vad, vad_report
from bench.turns.simulate import Score, percentile

HERE = Path(__file__).resolve().parent
GOALS = {"cutoff": 0.05, "p50": 700.0, "p95": 1500.0, "false_barge": 0.05, "missed": 0.05}
TODAY_MS = 1500.0


class Node:
    """One `node driver.mjs` process, spoken to in JSON lines."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            ["node", str(HERE / "driver.mjs")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, bufsize=1,
        )

    def ask(self, msg: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps(msg) + "\n")
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the Node driver stopped; run it by hand to see why")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ends(self, ids: Sequence[str], options: dict[str, Any], *, learn: bool = True
             ) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = self.ask(
            {"op": "eval", "ids": list(ids), "options": options, "learn": learn})["results"]
        return results

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
        if self._proc.stdout:
            self._proc.stdout.close()


def verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


def row(path: str, policy: str, s: Score) -> None:
    p50, p95 = s.delay(50), s.delay(95)
    print(f"{path:9} {policy:44} {s.cutoff:6.1%} {verdict(s.cutoff, GOALS['cutoff']):7} "
          f"{p50:6.0f} {verdict(p50, GOALS['p50']):7} {p95:6.0f} {verdict(p95, GOALS['p95']):7} "
          f"{s.never:4}")


def header(title: str) -> None:
    print(title)
    print(f"{'path':9} {'policy':44} {'cut-off':>6} {'<=5%':7} {'p50 ms':>6} {'<=700':7} "
          f"{'p95 ms':>6} {'<=1500':7} {'never':>5}")


def by_id(turns: Iterable[dict[str, Any]], prefix: str, ends: dict[str, dict[str, Any]]
          ) -> dict[str, float | None]:
    return {t["id"]: ends[f"{prefix}{t['id']}"]["end"] for t in turns}


def objective(s: Score) -> float:
    """What tuning minimises: delay, once the cut-off rate is under 3 % (a margin under 5 %)."""
    if s.cutoff > 0.03:
        return 1e6 + s.cutoff
    return s.delay(50) + s.delay(95)


def tune(node: Node, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Grid search of the word-cue constants on the browser path's tune half."""
    ids = [f"b:{t['id']}" for t in turns]
    grid: dict[str, list[float]] = {
        "maxMs": [3500],
        "questionMs": [350, 500],
        "gapQuantile": [0.8, 0.9],
        "sentenceMs": [2400, 3000],
        "sentenceMinMs": [1000, 1500, 2000],
        "sentenceMaxMs": [3000, 3500],
        "pauseQuantile": [0.95, 1.0],
        "priorWeight": [4, 8],
        "hesitationMs": [3000, 3500],
    }
    best: tuple[float, dict[str, Any]] = (math.inf, {})
    for values in itertools.product(*grid.values()):
        options = dict(zip(grid, values, strict=True))
        if max(options["hesitationMs"], options["sentenceMaxMs"]) > options["maxMs"]:
            continue
        s = simulate.score(turns, by_id(turns, "b:", node.ends(ids, options)))
        if objective(s) < best[0]:
            best = (objective(s), options)
            print(f"  {s.cutoff:5.1%} p50 {s.delay(50):4.0f} p95 {s.delay(95):4.0f}  {options}")
    print(f"best on the tune half: {best[1]}")
    return best[1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="search the constants again")
    parser.add_argument("--no-words", action="store_true", help="skip Whisper partials")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the corpus")
    parser.add_argument("--split", choices=("test", "tune"), default="test")
    args = parser.parse_args(argv)

    manifest = corpus.load(rebuild=args.rebuild)
    turns: list[dict[str, Any]] = manifest["turns"]
    half = [t for t in turns if t["split"] == args.split]
    tune_half = [t for t in turns if t["split"] == "tune"]
    node = Node()
    try:
        report(node, manifest, turns, half, tune_half, args)
    finally:
        node.close()


def report(node: Node, manifest: dict[str, Any], turns: list[dict[str, Any]],
           half: list[dict[str, Any]], tune_half: list[dict[str, Any]],
           args: argparse.Namespace) -> None:
    # Browser path: scripted recognizer results.
    chrome = {t["id"]: simulate.chrome_events(t, i) for i, t in enumerate(turns)}
    load: dict[str, Any] = {f"b:{t['id']}": {"person": t["persona"], "events": chrome[t["id"]],
                                             "until": t["duration_ms"]} for t in turns}

    # Recorder path: every VAD over the real audio, frame by frame.
    vads = vad.available()
    frames: dict[str, dict[str, vad.Frames]] = {v.name: {} for v in vads}
    costs: dict[str, list[float]] = {v.name: [] for v in vads}
    words = None
    if not args.no_words:
        from bench.turns.partials import Partials, cost_ms

        partials = Partials()
        words = simulate.Words(partials.transcribe, cost_ms)
    for t in turns:
        audio = corpus.load_wav(corpus.CACHE / t["file"])
        for v in vads:
            f, us = vad_report.timed_run(v, audio)
            frames[v.name][t["id"]] = f
            costs[v.name].append(us)
            load[f"r:{v.name}:{t['id']}"] = {
                "person": t["persona"], "events": simulate.speech_events(f),
                "until": t["duration_ms"]}
        if words is not None:
            f = frames["silero"][t["id"]]
            load[f"w:{t['id']}"] = {"person": t["persona"], "until": t["duration_ms"],
                                    "events": simulate.recorder_events(f, audio, words)}
    node.ask({"op": "load", "turns": load})

    if args.tune:
        tune(node, tune_half)

    split = "held-out test" if args.split == "test" else "tune"
    header(f"End of turn: {len(half)} turns of the {split} half "
           f"(the constants were tuned on the tune half); delays from the true end of speech")
    ids = [t["id"] for t in half]

    def ours(prefix: str, *, learn: bool = True) -> Score:
        ends = node.ends([f"{prefix}{i}" for i in ids], {}, learn=learn)
        return simulate.score(half, by_id(half, prefix, ends))

    browser = ours("b:")
    row("browser", "turn-end.js (learns pauses)", browser)
    row("browser", "turn-end.js (no learning)", ours("b:", learn=False))
    fixed = {t["id"]: simulate.fixed_after_events([e["t"] for e in chrome[t["id"]]], TODAY_MS)
             for t in half}
    row("browser", "fixed 1.5 s after the last result (today)", simulate.score(half, fixed))
    if words is not None:
        row("recorder", "Silero + partial words + turn-end.js", ours("w:"))
    for v in vads:
        row("recorder", f"{v.name} + turn-end.js (no words)", ours(f"r:{v.name}:"))
    for v in vads:
        today = " (today)" if v.name.startswith("energy") else ""
        ends = {t["id"]: simulate.fixed_after_frames(frames[v.name][t["id"]], TODAY_MS)
                for t in half}
        row("recorder", f"{v.name} + fixed 1.5 s{today}", simulate.score(half, ends))
    print("cut-off: turns ended at a mid-turn pause. never: turns a VAD never let end "
          "(noise heard as speech); their delay counts to the end of the clip.")
    print("Published reference (real human speech, eot-bench): LiveKit Turn Detector v1 cuts "
          "off 9.9 % at a 300 ms budget and needs 543 ms to get to 5 %.")
    print()

    kinds(browser, "browser, turn-end.js")
    points(node, half, ids, words is not None)
    personas(node, half, ids)
    curve(chrome, frames["silero"], half)
    print()

    scores = []
    for v in vads:
        noise = [(c, vad.run(v, corpus.load_wav(corpus.CACHE / c["file"])))
                 for c in manifest["noise"]]
        scores.append(vad_report.score_vad(v, turns, frames[v.name], costs[v.name], noise))
    vad_report.print_table(scores, len(turns))
    print()

    barge_in(node, manifest, vads, words)
    if words is not None:
        from bench.turns.partials import COST_FIXED_MS, COST_PER_SECOND_MS

        print(f"Partial transcripts: {words.calls} asked for, modelled at {COST_FIXED_MS:.0f} ms "
              f"+ {COST_PER_SECOND_MS:.0f} ms per second of audio (Whisper base, int8, greedy, "
              "short window; measured by `python -m bench.turns.partials`).")
        partials.save()


def kinds(s: Score, name: str) -> None:
    total = sum(s.cut_kinds.values())
    shown = ", ".join(f"{k} {n}" for k, n in sorted(s.cut_kinds.items(), key=lambda kv: -kv[1]))
    print(f"Cut-offs by where they happened ({name}): {shown or 'none'} ({total} turns)")


def points(node: Node, half: list[dict[str, Any]], ids: list[str], words: bool) -> None:
    """Other operating points: less patience after a complete sentence (all else as shipped)."""
    print("Patience after a complete sentence (prior = ceiling), everything else as shipped:")
    for ms in (1200, 1800, 2400, 3000):
        options = {"sentenceMs": ms, "sentenceMaxMs": ms, "sentenceMinMs": min(ms, 1000)}
        line = f"  {ms:5} ms"
        for name, prefix in (("browser", "b:"), ("recorder+words", "w:")):
            if prefix == "w:" and not words:
                continue
            ends = node.ends([f"{prefix}{i}" for i in ids], options)
            sc = simulate.score(half, by_id(half, prefix, ends))
            line += (f"   {name} cut-off {sc.cutoff:5.1%} p50 {sc.delay(50):5.0f} "
                     f"p95 {sc.delay(95):5.0f}")
        print(line)


def personas(node: Node, half: list[dict[str, Any]], ids: list[str]) -> None:
    """Learning, person by person (browser path)."""
    learned = node.ends([f"b:{i}" for i in ids], {})
    cold = node.ends([f"b:{i}" for i in ids], {}, learn=False)
    print("Per person (browser): cut-off and p50/p95 delay, learning vs not learning")
    for p in corpus.PERSONAS:
        mine = [t for t in half if t["persona"] == p.name]
        a = simulate.score(mine, by_id(mine, "b:", learned))
        b = simulate.score(mine, by_id(mine, "b:", cold))
        print(f"  {p.name:8} pauses x{p.pause_scale:<4} {len(mine):3} turns   learning "
              f"{a.cutoff:5.1%} {a.delay(50):5.0f} {a.delay(95):5.0f}   not learning "
              f"{b.cutoff:5.1%} {b.delay(50):5.0f} {b.delay(95):5.0f}")


def curve(chrome: dict[str, list[dict[str, Any]]], silero: dict[str, vad.Frames],
          half: list[dict[str, Any]]) -> None:
    """Silence-only timers, for comparison: what a fixed wait costs."""
    print("Silence only (a fixed wait after the last word / the last Silero speech frame):")
    for wait in (300, 500, 700, 1000, 1500, 2000, 2500, 3000):
        words_only = {t["id"]: simulate.fixed_after_events(
            [e["t"] for e in chrome[t["id"]] if not e["final"]], wait) for t in half}
        b = simulate.score(half, words_only)
        r = simulate.score(half, {t["id"]: simulate.fixed_after_frames(silero[t["id"]], wait)
                                  for t in half})
        print(f"  {wait:5} ms   browser cut-off {b.cutoff:5.1%} p50 {b.delay(50):5.0f}   "
              f"recorder cut-off {r.cutoff:5.1%} p50 {r.delay(50):5.0f}")


def barge_in(node: Node, manifest: dict[str, Any], vads: list[vad.Vad],
             words: simulate.Words | None) -> None:
    clips = manifest["barge"]
    silero = vads[0]
    backs = [c for c in clips if c["kind"] == "backchannel"]
    stops = [c for c in clips if c["kind"] == "interruption"]
    print(f"Barge-in while Parley speaks: {len(backs)} backchannel clips, {len(stops)} "
          f"interruptions, {len(manifest['noise'])} noise-only clips (isBackchannel has no "
          "tuned constants: no split)")
    print(f"{'path':44} {'false barge-ins':>15} {'<=5%':7} {'missed':>7} {'<=5%':7} "
          f"{'p50 to stop':>11} {'noise stops':>11}")
    audio = {c["id"]: corpus.load_wav(corpus.CACHE / c["file"]) for c in clips}
    noise_audio = {c["id"]: corpus.load_wav(corpus.CACHE / c["file"]) for c in manifest["noise"]}
    sil = {k: vad.run(silero, a) for k, a in {**audio, **noise_audio}.items()}

    def line(name: str, decide: Any, today: Any = None) -> None:
        outcome = {c["id"]: today(c) if today else decide(c) for c in clips}
        false = [c for c in backs if outcome[c["id"]][0]]
        missed = [c for c in stops if not outcome[c["id"]][0]]
        waits = [outcome[c["id"]][1] - c["start_ms"] for c in stops
                 if outcome[c["id"]][0] and outcome[c["id"]][1] is not None]
        noise = "n/a" if today else str(sum(decide(c)[0] for c in manifest["noise"]))
        fb, ms = len(false) / len(backs), len(missed) / len(stops)
        p50 = f"{percentile(waits, 50):.0f} ms" if waits else "n/a"
        print(f"{name:44} {fb:15.1%} {verdict(fb, GOALS['false_barge']):7} {ms:7.1%} "
              f"{verdict(ms, GOALS['missed']):7} {p50:>11} {noise:>11}")
        wrong = sorted({c["text"] for c in false} | {c["text"] for c in missed})
        if wrong:
            print(f"{'':46}wrong on: {'; '.join(wrong)}")

    def ask(queries: list[barge.Query]) -> tuple[bool, float | None]:
        out = node.ask({"op": "barge", "queries": queries})
        return bool(out["barge"]), out["at"]

    index = {c["id"]: i for i, c in enumerate(clips)}
    line("browser: isBackchannel",
         lambda c: ask(barge.browser_queries(c, index[c["id"]])) if c["id"] in index
         else (False, None))
    line("browser: today (2+ words stop Parley)", None,
         today=lambda c: (barge.today_browser(c), None))
    sound = {**audio, **noise_audio}
    line("recorder: Silero + isBackchannel (no words)",
         lambda c: ask(barge.recorder_queries(sil[c["id"]], sound[c["id"]], None)))
    if words is not None:
        line("recorder: Silero + partial words + isBackchannel",
             lambda c: ask(barge.recorder_queries(sil[c["id"]], sound[c["id"]], words)))
    print()


if __name__ == "__main__":
    main()
