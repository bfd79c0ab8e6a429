// When has the person finished their turn? Reads the words, not only the silence. Pure: no
// DOM, no timers; the page passes the time of what it hears and asks decide(now), which says
// why. English cues; otherwise (or with no words) the person's own pauses, learned on the device.

// Tuned on half of bench/turns' corpus (python -m bench.turns.run --tune).
export const DEFAULTS = Object.freeze({
  minMs: 250, // never end sooner than this after the last words
  maxMs: 3500, // never wait longer than this, whatever the words
  handoverMs: 300, // "what do you think?", "that's it"
  questionMs: 350, // a complete question
  sentenceMs: 3000, // a complete sentence, before anything is learned
  sentenceMinMs: 1000, // bounds for what is learned
  sentenceMaxMs: 3000,
  fragmentFactor: 1.3, // a phrase of one or two words: more likely to go on
  listMs: 2400, // a list in progress, "two things", "so, the icons"
  hesitationMs: 3000, // trailing "and", "the", "um", "..."
  noWordsMs: 2000, // nothing to read
  noWordsMinMs: 1200,
  pauseQuantile: 1, // share of the person's recent pauses a learned wait covers
  gapQuantile: 0.8, // share of gaps between words a quick answer waits out
  marginMs: 150,
  priorWeight: 8, // the defaults count as this many learned pauses
  keepPauses: 40,
  pauseMinMs: 600, // shorter gaps between words are not pauses
  lang: "en",
});

const words = (s) => s.toLowerCase().replace(/[’‘]/g, "'").match(/[\p{L}\p{N}'-]+/gu) || [];
const set = (s) => new Set(s.split(" "));

const FILLERS = set("um uh uhm umm er erm ah hmm hm mm like");
const FILLER_PAIRS = set("you_know i_mean kind_of sort_of let's_see");
// A clause cannot end on these: conjunctions, articles, possessives, subject pronouns.
const CONTINUING = set("and but or so because cause 'cause since then if when while although "
  + "though unless until whereas plus the a an my our your their his her its very really just "
  + "also not i we they he she");
// ... nor, outside a question ("how would you fix that?"), on these.
const CONTINUING_OUTSIDE_QUESTIONS = set("to of for with without in on at from by about into "
  + "onto over under between through after before is are was were be been being am has have "
  + "had do does did can could would should will shall may might must that this these those "
  + "more less most some any every each no other another such either neither both how what "
  + "why which who whose where");
const AUX = set("do does did is are am was were will would could should can shall may might have "
  + "has isn't aren't don't doesn't didn't won't wouldn't couldn't shouldn't can't about");
const PRONOUNS = set("i you we they he she it");
const SUBJECTS = set("i you we they he she it that this there the a an our my your their people");
const WH = set("what how why where when who which whose what's how's where's who's why's");
const WH_SUBJECT = set("what how why who which"); // "which one feels ...", "how far apart ..."
const LEAD_INS = set("so and but okay ok well now right then also");
const HANDOVERS = ["what do you think", "what would you do", "thoughts", "any thoughts",
  "that's it", "that is it", "that's all", "does that make sense", "make sense", "over to you",
  "your turn", "what's your take", "your take", "how does that sound", "any ideas",
  "what would you suggest", "what do you reckon", "go ahead", "i'm done", "what do you say",
  "so yeah", "anyway", "isn't it", "don't you think", "or not"];
const ORDINALS = set("first firstly second secondly third thirdly fourth next");
const CLOSERS = set("finally lastly last");
const ANNOUNCED = /\b(two|three|four|five|couple of|few|several) (things|options|ideas|problems|questions|steps|screens|ways|reasons|issues|concerns|parts|points|versions)\b|\b(here's the thing|the thing is|here's what|let me explain|some context|the problem is|the question is)\b/;

const endsWith = (list, tail) => tail.length >= list.length
  && list.every((w, i) => tail[tail.length - list.length + i] === w);

function quantile(values, q) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** What the words say: {cue, group}. The phrase is the words since the last pause. */
export function readWords(text, { lang = "en", phraseStart = 0 } = {}) {
  const all = words(text || "");
  const raw = (text || "").trim();
  if (!all.length) return { cue: "no words", group: "none" };
  if (!lang.toLowerCase().startsWith("en")) {
    if (raw.endsWith("?")) return { cue: "complete question", group: "sentence" };
    return { cue: "not English: learned pauses", group: "none" };
  }
  // Whisper punctuates; Chrome mostly does not.
  const sentences = raw.split(/[.?!]\s+/);
  const lastSentence = words(sentences[sentences.length - 1]);
  const start = Math.max(phraseStart, all.length - lastSentence.length);
  const phrase = all.slice(Math.min(start, all.length - 1));
  const last = all[all.length - 1];
  const pair = all.slice(-2).join("_");
  if (/(\.\.\.|…|,|-|—)$/.test(raw)) return { cue: "trailing off", group: "hesitation" };
  if (FILLERS.has(last) || FILLER_PAIRS.has(pair)) {
    return { cue: `filler "${last}"`, group: "hesitation" };
  }
  // "..., right?" asks for agreement, but "on the right" does not.
  const tag = last === "right" && all.length > 2 && !CONTINUING.has(all[all.length - 2])
    && !CONTINUING_OUTSIDE_QUESTIONS.has(all[all.length - 2]);
  if (tag || HANDOVERS.some((h) => endsWith(h.split(" "), all))) {
    return { cue: "hand-over", group: "sentence" };
  }
  if (CONTINUING.has(last)) return { cue: `trailing "${last}"`, group: "hesitation" };
  let first = 0;
  while (first < phrase.length - 1 && LEAD_INS.has(phrase[first])) first += 1;
  const head = phrase.slice(first);
  // "should we", "how would you", "which one feels", "what's": but not "is hidden" (after a
  // pause mid-clause) or "what I did".
  const asks = raw.endsWith("?") || (head.length >= 2 && head[0].includes("'") && WH.has(head[0]))
    || (head.length >= 3 && ((AUX.has(head[0]) && SUBJECTS.has(head[1]))
      || (WH.has(head[0]) && AUX.has(head[1]))
      || (WH_SUBJECT.has(head[0]) && !PRONOUNS.has(head[1]))));
  if (!asks && CONTINUING_OUTSIDE_QUESTIONS.has(last)) {
    return { cue: `trailing "${last}"`, group: "hesitation" };
  }
  if (asks) return { cue: "complete question", group: "sentence" };
  const recent = all.slice(Math.max(0, start - 12)).join(" ");
  if ((ORDINALS.has(head[0]) || ANNOUNCED.test(recent)) && !phrase.some((w) => CLOSERS.has(w))) {
    return { cue: "list in progress", group: "hesitation" };
  }
  // "So, the password rules."
  if (first > 0 && phrase.length <= 4) return { cue: "topic opener", group: "hesitation" };
  if (phrase.length < 3) return { cue: "short fragment", group: "sentence" };
  return { cue: "complete sentence", group: "sentence" };
}

/** End-of-turn decisions for one person: options are DEFAULTS overrides and `stats`. */
export function createTurnEnd(options = {}) {
  const o = { ...DEFAULTS, ...options };
  // Pauses by what came before, all pauses ("none"), gaps between words.
  const learned = { sentence: [], hesitation: [], none: [], gaps: [] };
  const stats = options.stats;
  if (stats?.version === 1) {
    for (const kind of Object.keys(learned)) {
      learned[kind] = (stats.pauses?.[kind] || []).filter(Number.isFinite).slice(-o.keepPauses);
    }
  }
  let text = "";
  let count = 0; // words so far
  let breaks = [0]; // word counts where a phrase ended (a pause, a final result)
  let lastSpeechMs = null;
  let pendingSince = null; // words are coming for the pause that began then

  function keep(list, ms) {
    list.push(Math.round(ms));
    if (list.length > o.keepPauses) list.shift();
  }

  function learn(pauseMs, group = "none") {
    keep(learned[group] || learned.none, pauseMs);
    if (group !== "none") keep(learned.none, pauseMs);
  }

  // The person's own pauses, blended with the prior while they are few.
  function personal(list, prior, low, high) {
    const q = quantile(list, o.pauseQuantile);
    const mine = q === null ? prior : q + o.marginMs;
    const n = list.length;
    const blended = (prior * o.priorWeight + mine * n) / (o.priorWeight + n);
    return Math.round(Math.min(high, Math.max(low, blended)));
  }

  const phraseStart = () => Math.max(...breaks.filter((b) => b < count), 0);
  const cueNow = () => readWords(text, { lang: o.lang, phraseStart: phraseStart() });

  function speech(atMs, words = false) {
    const gap = lastSpeechMs === null ? 0 : atMs - lastSpeechMs;
    if (gap >= o.pauseMinMs) {
      learn(gap, cueNow().group);
      breaks.push(count);
    } else if (gap > 0 && words) keep(learned.gaps, gap);
    if (lastSpeechMs === null || atMs > lastSpeechMs) lastSpeechMs = atMs;
  }

  // A quick answer still waits out the gaps between words (slow speech, slow recognizer).
  const wordGaps = () => (learned.gaps.length >= 5
    ? quantile(learned.gaps, o.gapQuantile) + o.marginMs : 0);

  /** How long to wait after `said`, and why: {ms, cue, reason}. */
  function waitFor(said = text, start = 0) {
    const { cue, group } = readWords(said, { lang: o.lang, phraseStart: start });
    let ms;
    if (cue === "hand-over") ms = Math.max(o.handoverMs, wordGaps());
    else if (cue === "complete question") ms = Math.max(o.questionMs, wordGaps());
    else if (group === "hesitation") {
      const base = cue === "list in progress" || cue === "topic opener" ? o.listMs : o.hesitationMs;
      ms = personal(learned.hesitation, base, base, o.maxMs);
    } else if (group === "sentence") {
      ms = personal(learned.sentence, o.sentenceMs, o.sentenceMinMs, o.sentenceMaxMs);
      if (cue === "short fragment") ms *= o.fragmentFactor;
    } else {
      ms = personal(learned.none, o.noWordsMs, o.noWordsMinMs, o.maxMs);
    }
    ms = Math.round(Math.min(o.maxMs, Math.max(o.minMs, ms)));
    return { ms, cue, reason: `${cue}: wait ${ms} ms` };
  }

  return {
    /** A new turn: words forgotten, pauses kept. */
    start() {
      text = "";
      count = 0;
      breaks = [0];
      lastSpeechMs = null;
      pendingSince = null;
    },

    /**
     * All words of the turn so far (finals and interim). `spokeAtMs`: when they were said, if
     * before `atMs` (a late transcript). `final`: the recognizer closed a phrase.
     */
    heard(said, atMs, { final = false, spokeAtMs = atMs } = {}) {
      const n = words(said).length;
      if (n > count) speech(spokeAtMs, true);
      if (pendingSince !== null && spokeAtMs >= pendingSince) pendingSince = null;
      text = said;
      count = n;
      if (final) breaks.push(n);
      if (breaks.length > 64) breaks = breaks.slice(-32);
    },

    /** Speech heard by a VAD, no words. */
    voice(atMs) {
      speech(atMs);
    },

    /** Words for the speech before `atMs` are coming: do not end without them. */
    awaitWords(atMs) {
      pendingSince = atMs;
    },

    waitFor: (said = text) => waitFor(said, said === text ? phraseStart() : 0),

    /** Is the turn over? {end, inMs (ask again then), waitMs, silentMs, cue, reason}. */
    decide(nowMs) {
      if (lastSpeechMs === null) {
        return { end: false, inMs: null, waitMs: null, silentMs: 0, cue: "nothing heard",
          reason: "nothing heard yet" };
      }
      const silentMs = nowMs - lastSpeechMs;
      const { ms, cue, reason } = waitFor(text, phraseStart());
      if (pendingSince !== null && silentMs < o.maxMs) {
        return { end: false, inMs: o.maxMs - silentMs, waitMs: ms, silentMs, cue,
          reason: "waiting for the words" };
      }
      // Half a millisecond of slack: a timer set for `inMs` may fire a hair early.
      return { end: silentMs >= ms - 0.5, inMs: Math.max(0, ms - silentMs), waitMs: ms, silentMs,
        cue, reason };
    },

    /** Ended too soon: they went on at `atMs`. Learns the pause; the turn carries on. */
    resumed(atMs) {
      if (lastSpeechMs !== null && atMs > lastSpeechMs) learn(atMs - lastSpeechMs, cueNow().group);
      breaks.push(count);
      lastSpeechMs = Math.max(lastSpeechMs ?? atMs, atMs);
    },

    /** learn(pauseMs, group): a mid-turn pause after "sentence" or "hesitation" words. */
    learn,

    /** What was learned, JSON-safe, to keep on the device. */
    exportStats() {
      return { version: 1, pauses: Object.fromEntries(Object.entries(learned).map(([k, v]) => [k, [...v]])) };
    },

    get text() { return text; },
    /** When speech was last heard (performance.now() time), for the voice-to-voice clock. */
    get spokeUntil() { return lastSpeechMs; },
  };
}

const BACKCHANNELS = set("yeah yes yep yup yah ya mm mhm mm-hmm mmhmm uh-huh uhuh hmm hm right "
  + "okay ok sure cool nice true exactly totally gotcha ah oh wow ha haha hahaha heh thanks "
  + "interesting absolutely definitely indeed alright uh um er erm");
// Not counted as words, nor their first words while they arrive ("that makes ...").
const ACKNOWLEDGEMENTS = ["that makes sense", "makes sense", "i see", "got it", "fair enough",
  "sounds good", "good point", "all good", "thank you", "of course", "i agree"].map((a) => a.split(" "));

// Transcribers repeat themselves on short sounds ("got it. got it. got", "shia shia sh").
function collapse(heard) {
  const out = [];
  for (const w of heard) {
    const prev = out[out.length - 1];
    if (prev && prev !== w && prev.startsWith(w)) continue;
    out.push(w);
    for (let n = 1; n <= 3; n += 1) {
      const tail = out.slice(-n).join(" ");
      if (out.length >= 2 * n && tail === out.slice(-2 * n, -n).join(" ")) {
        out.length -= n;
        break;
      }
    }
  }
  return out;
}

function withoutAcknowledgements(heard) {
  const out = [];
  for (let i = 0; i < heard.length;) {
    const ack = ACKNOWLEDGEMENTS.find((a) => a.every((w, j) => heard[i + j] === w));
    if (ack) i += ack.length;
    else out.push(heard[(i += 1) - 1]);
  }
  const tail = ACKNOWLEDGEMENTS.flatMap((a) => a.slice(0, -1).map((_, n) => a.slice(0, n + 1)))
    .filter((pre) => endsWith(pre, out) && endsWith(pre, heard))
    .reduce((longest, pre) => Math.max(longest, pre.length), 0);
  return out.slice(0, out.length - tail);
}
const INTERRUPTS = set("wait stop no nope hold hang actually sorry excuse pause but");
const QUESTION_WORDS = set("what why how which where who when");
const LONG_MS = 600; // more speech than this is a real turn, unless only acknowledgements
const WORDLESS_MS = 2000; // a sound with no words (a laugh) longer than this is talking

/**
 * While Parley speaks, is this a backchannel ("yeah", a cough), not an interruption? `said`:
 * the words (null: no recognizer; "": none heard); `speechMs`: how long the sound has lasted.
 */
export function isBackchannel(said, speechMs = 0) {
  if (said === null || said === undefined) {
    return speechMs < LONG_MS
      ? { backchannel: true, reason: `${Math.round(speechMs)} ms of sound, no words yet` }
      : { backchannel: false, reason: `over ${LONG_MS} ms of speech` };
  }
  // "(laughs)", "[coughs]", "*sigh*"
  const heard = collapse(words(said.replace(/[([*][^)\]*]*[)\]*]/g, " ")));
  const content = withoutAcknowledgements(heard).filter((w) => !BACKCHANNELS.has(w));
  if (!heard.length) {
    return speechMs < WORDLESS_MS
      ? { backchannel: true, reason: "a sound with no words" }
      : { backchannel: false, reason: "a long sound with no words" };
  }
  const stop = heard.find((w) => INTERRUPTS.has(w));
  if (stop) return { backchannel: false, reason: `interrupting word "${stop}"` };
  if (!content.length) return { backchannel: true, reason: `acknowledgement "${heard.join(" ")}"` };
  if (content.length >= 2) return { backchannel: false, reason: "real words" };
  if (QUESTION_WORDS.has(content[0])) return { backchannel: false, reason: "a question" };
  return speechMs >= LONG_MS
    ? { backchannel: false, reason: `over ${LONG_MS} ms of speech` }
    : { backchannel: true, reason: "one short word" };
}
