// Voice-to-voice time, stage by stage: from the end of the person's words to the first sound
// of the answer, what a person feels. talk.js marks the moments; the readout, the JSON
// export and the server's metrics read the stages.

/** The stages in order, with the words the readout uses for them. */
export const STAGES = Object.freeze([
  ["endOfTurn", "Waiting out your pause"],
  ["hearing", "Getting your words"],
  ["firstSentence", "Parley's first sentence"],
  ["firstAudio", "Starting to speak"],
]);

// Each stage runs from one moment to the next.
const SPANS = { endOfTurn: ["spokeUntil", "decided"], hearing: ["decided", "sent"],
  firstSentence: ["sent", "sentence"], firstAudio: ["sentence", "playing"] };

/**
 * One turn's clock. `path`: browser, recorder, stream or typed (no pause: it starts at the
 * tap). `spokeUntil`: speech last heard; `decided`: the turn ended (before transcribing).
 */
export function createTurnClock(path, { spokeUntil, decided = performance.now() } = {}) {
  const at = { decided, spokeUntil: Math.min(spokeUntil ?? decided, decided) };
  return {
    path,
    /** The first time each moment happens counts: sent, sentence, playing. */
    mark(moment, when = performance.now()) { at[moment] ??= when; },
    /** {path, totalMs, stages} once the answer is heard; null before. */
    timing() {
      if (at.playing == null) return null;
      const stages = {};
      for (const [stage, [from, to]] of Object.entries(SPANS)) {
        if (path === "typed" && stage === "endOfTurn") continue;
        if (at[from] != null && at[to] != null) {
          stages[stage] = Math.max(0, Math.round(at[to] - at[from]));
        }
      }
      return { path, totalMs: Math.max(0, Math.round(at.playing - at.spokeUntil)), stages };
    },
  };
}

/** "1.4 s": how the readout says a duration. */
export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** A stage: "12 ms" under a second ("0.0 s" would hide it), else seconds. */
export const stageTime = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms));
