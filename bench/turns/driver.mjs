// Drives parley/web/js/voice/turn-end.js in simulated time for bench/turns/run.py.
//
// One JSON object per line in, one per line out:
//   {op: "load", turns: {id: {person, events, until}}}      keep turns to evaluate later
//   {op: "eval", options, ids, learn}                         run them in order -> {results}
//   {op: "barge", queries: [[text|null, speechMs, atMs]...]}  -> first interruption, if any
// Events: {t, type: "heard", text, final, spokeAt} | {t, type: "speech", from, to, hop}
//         | {t, type: "await", since}. Times are milliseconds from the start of the clip.

import { createInterface } from "node:readline";
import { createTurnEnd, isBackchannel } from "../../parley/web/js/voice/turn-end.js";

const turns = new Map();

function expand(events) {
  const out = [];
  for (const e of events) {
    if (e.type === "speech") {
      for (let t = e.from; t <= e.to + 1e-6; t += e.hop) out.push({ t, type: "voice" });
    } else out.push(e);
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Feed one turn's events; end at the first moment decide() says so, as a page timer would. */
function runTurn(turn, { events, until }, learnFromCutOffs) {
  turn.start();
  for (let i = 0; i < events.length; i += 1) {
    const e = events[i];
    if (e.type === "heard") turn.heard(e.text, e.t, { final: e.final, spokeAtMs: e.spokeAt ?? e.t });
    else if (e.type === "voice") turn.voice(e.t);
    else if (e.type === "await") turn.awaitWords(e.since);
    const next = i + 1 < events.length ? events[i + 1].t : until;
    const now = turn.decide(e.t);
    if (now.inMs === null) continue;
    const at = e.t + now.inMs; // the page's setTimeout
    if (at < next) {
      const then = turn.decide(at);
      if (then.end) {
        // The page notices the person going on (their words keep coming after the end).
        const more = events.slice(i + 1).find((x) => x.type === "voice"
          || (x.type === "heard" && x.text.split(" ").length > turn.text.split(" ").length));
        if (more && learnFromCutOffs) turn.resumed(more.type === "heard" ? more.spokeAt ?? more.t : more.t);
        return { end: at, cue: then.cue, reason: then.reason, wait: then.waitMs };
      }
    }
  }
  return { end: null, cue: null, reason: "never ended", wait: null };
}

function evaluate({ options = {}, ids, learn = true, resumed = true }) {
  const people = new Map();
  const results = {};
  for (const id of ids) {
    const spec = turns.get(id);
    let turn = people.get(spec.person);
    if (!turn || !learn) {
      turn = createTurnEnd(options);
      people.set(spec.person, turn);
    }
    results[id] = runTurn(turn, spec, resumed);
  }
  const stats = Object.fromEntries([...people].map(([p, t]) => [p, t.exportStats()]));
  return { results, stats };
}

function barge({ queries }) {
  let last = null;
  for (const [text, speechMs, at] of queries) {
    last = isBackchannel(text, speechMs);
    if (!last.backchannel) return { barge: true, at, reason: last.reason };
  }
  return { barge: false, at: null, reason: last?.reason ?? "nothing heard" };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const msg = JSON.parse(line);
  let out;
  if (msg.op === "load") {
    for (const [id, spec] of Object.entries(msg.turns)) turns.set(id, { ...spec, events: expand(spec.events) });
    out = { loaded: turns.size };
  } else if (msg.op === "eval") out = evaluate(msg);
  else if (msg.op === "barge") out = barge(msg);
  else out = { error: `unknown op ${msg.op}` };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
