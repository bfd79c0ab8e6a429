// Wiring: the talk loop's state machine between the view, the voice modules, the API
// and the store. No DOM here (view.js) and no URLs (api.js).

import * as api from "./api.js";
import * as exporter from "./exporter.js";
import * as store from "./store.js";
import { createView } from "./view.js";
import { chooseListener } from "./voice/listener.js";
import { realtimeSupport, startCall } from "./voice/realtime.js";
import { createSpeaker } from "./voice/speaker.js";

const view = createView();
let settings = store.loadSettings();
let apiKey = store.loadKey();
let accessCode = store.loadAccessCode();
let health = null;
let conversation = restoreConversation();

let phase = "idle"; // idle | listening | thinking | speaking
let listener = null;
let listenerReason = null;
let controller = null; // aborts the reply being fetched
let reply = null; // {turn, handle} of the reply being received
let heardAt = 0; // when the person's turn ended, for the latency readout
let lastTurnByVoice = false;
let saveTimer = null;
let spokenText = ""; // what Parley is saying, to tell its own echo from the person
let call = null; // the realtime call, while one is on
let callId = 0; // bumps when a call is let go, so its late callbacks are ignored
let callPhase = "connecting";
let callReplies = new Map(); // response id → {turn, handle}

const speaker = createSpeaker({
  onStart() {
    if (heardAt) view.setLatency(performance.now() - heardAt);
    heardAt = 0;
    if (phase === "thinking") setPhase("speaking");
    if (monitoring()) listener.start(); // hear the person over Parley's own voice
  },
  onIdle() {
    if (phase !== "speaking" && phase !== "thinking") return;
    if (controller) return; // the reply is still arriving; more sentences will come
    afterReply();
  },
  onBlocked() {
    view.setStatus("Tap the microphone once so Parley can speak on this device.", "error");
  },
});

// Phases --------------------------------------------------------------------------------------

const STATUS = {
  idle: "",
  listening: "Listening — pause when you're done",
  thinking: "Thinking…",
  speaking: "Speaking — tap to interrupt",
};

function setPhase(next) {
  phase = next;
  view.setMicState(next);
  view.setStatus(STATUS[next]);
  if (next !== "listening") view.setInterim("");
}

function auth() {
  return { apiKey: apiKey || null, accessCode: accessCode || null };
}

// Conversations -------------------------------------------------------------------------------

function restoreConversation() {
  const id = store.currentConversationId();
  const saved = id && store.loadConversation(id);
  if (!saved) return store.createConversation(settings.mode);
  // The page went away mid-reply: keep what had arrived, marked as interrupted.
  for (const turn of saved.turns) {
    if (turn.pending) {
      delete turn.pending;
      turn.interrupted = true;
    }
  }
  saved.turns = saved.turns.filter((t) => t.role !== "assistant" || t.content.trim());
  return saved;
}

function save() {
  clearTimeout(saveTimer);
  saveTimer = null;
  try {
    store.saveConversation(conversation);
  } catch (err) {
    view.setStatus(err.message, "error");
  }
}

function saveSoon() {
  if (!saveTimer) saveTimer = setTimeout(save, 250);
}

function startNewConversation({ keepCurrent = true } = {}) {
  stopEverything();
  if (keepCurrent) save();
  else clearTimeout(saveTimer);
  saveTimer = null;
  conversation = store.createConversation(settings.mode);
  store.forgetCurrent();
  view.renderConversation(conversation);
  view.setLatency(null);
  setPhase("idle");
}

// Listening -----------------------------------------------------------------------------------

function buildListener() {
  listener?.abort();
  const speech = health?.speech?.stt || {};
  const chosen = chooseListener({
    preference: settings.listenWith,
    serverCanTranscribe: Boolean(speech.local || (speech.openai && apiKey)),
    serverListener: null, // the recorder path (server-side speech) plugs in here
    lang: navigator.language || "en-US",
    pauseMs: settings.pauseSeconds * 1000,
    onInterim: heard,
    onTurn: turnEnded,
    onError: listenerFailed,
    onListening() {
      if (phase === "listening") view.setStatus(STATUS.listening);
    },
  });
  listener = chosen.listener;
  listenerReason = chosen.reason;
  view.setMicAvailable(Boolean(listener));
  view.setNotice(listener ? "" : `${listenerReason} You can type instead.`);
}

function startListening() {
  if (!listener) {
    view.setStatus(`${listenerReason || "Voice input isn't available here."} Type instead.`, "error");
    view.focusComposer();
    return;
  }
  setPhase("listening");
  listener.start();
}

// "Interrupt by talking": while Parley speaks the listener keeps running, and only words
// that are not Parley's own (its echo through the speaker) count as the person talking.
function monitoring() {
  return settings.voiceBarge && settings.turns === "hands-free" && lastTurnByVoice
    && listener && !listener.active;
}

function heard(text) {
  if (phase === "speaking" || phase === "thinking") {
    if (!settings.voiceBarge || !isThePerson(text)) return;
    bargeIn({ listen: false, keepListener: true });
    setPhase("listening");
  }
  if (phase === "listening") view.setInterim(text);
}

// With "interrupt by talking" on, the mic also hears Parley: only words that Parley is not
// saying count as the person starting to talk.
function isThePerson(text) {
  const said = new Set(spokenText.toLowerCase().match(/[a-z']+/g) || []);
  const words = text.toLowerCase().match(/[a-z']+/g) || [];
  return words.filter((w) => !said.has(w)).length >= 2;
}

function turnEnded(text) {
  view.setInterim("");
  if (phase === "speaking" || phase === "thinking") {
    // Only Parley's echo was heard: keep watching for the person.
    if (monitoring()) listener.start();
    return;
  }
  if (!text) {
    setPhase("idle");
    view.setStatus("I didn't catch that. Tap the mic and try again.");
    return;
  }
  heardAt = performance.now();
  lastTurnByVoice = true;
  sendTurn(text);
}

function listenerFailed(problem) {
  view.setInterim("");
  if (problem.broken) {
    listener = null;
    listenerReason = problem.message;
    view.setMicAvailable(false);
    view.setNotice(`${problem.message}`);
  }
  if (phase === "listening") setPhase("idle");
  view.setStatus(problem.message, "error");
}

// Replies -------------------------------------------------------------------------------------

function historyBefore(turn) {
  const index = conversation.turns.indexOf(turn);
  return exporter.history({ turns: conversation.turns.slice(0, index) });
}

function sendTurn(text) {
  if (phase === "speaking" || phase === "thinking") bargeIn({ listen: false });
  const turn = { role: "user", content: text, at: Date.now() };
  conversation.turns.push(turn);
  view.appendMessage(turn);
  save();
  fetchReply(turn);
}

async function fetchReply(userTurn) {
  const turn = { role: "assistant", content: "", at: Date.now(), pending: true };
  const handle = view.appendMessage(turn);
  handle.setPending(true);
  reply = { turn, handle };
  controller = new AbortController();
  const mine = controller;
  setPhase("thinking");
  speaker.begin();
  spokenText = "";
  let failed = null;
  try {
    const body = {
      message: userTurn.content,
      history: historyBefore(userTurn),
      mode: settings.mode,
      provider: settings.provider === "auto" ? null : settings.provider,
    };
    conversation.turns.push(turn);
    for await (const { event, data } of api.conversation(body, auth(), mine.signal)) {
      if (event === "delta") {
        turn.content += data.text;
        handle.setText(turn.content);
        view.scrollToEnd();
        saveSoon();
      } else if (event === "sentence") {
        spokenText += ` ${data.text}`;
        speaker.say(data.text);
      } else if (event === "done") {
        turn.content = data.reply;
        handle.setText(turn.content);
        turn.provider = data.provider;
      } else if (event === "error") {
        failed = new api.ApiError(0, data.code, data.message, { partial: data.partial });
      }
    }
  } catch (err) {
    if (mine.signal.aborted) return; // barge-in or a new conversation: already handled
    failed = err instanceof api.ApiError ? err
      : new api.ApiError(0, "unknown", "Something went wrong. Please try again.");
  } finally {
    if (controller === mine) controller = null;
  }
  delete turn.pending;
  handle.setPending(false);
  reply = null;
  if (failed) {
    replyFailed(userTurn, turn, handle, failed);
  } else {
    save();
    speaker.end(); // may finish the reply at once (nothing left to say)
    const stillReplying = phase === "thinking" || phase === "speaking";
    if (stillReplying && (!speaker.supported || !speaker.speaking)) afterReply();
  }
}

function replyFailed(userTurn, turn, handle, error) {
  speaker.end();
  if (!turn.content.trim()) {
    conversation.turns.splice(conversation.turns.indexOf(turn), 1);
    handle.node.remove();
  } else {
    turn.interrupted = true;
    handle.setInterrupted();
  }
  save();
  const needsSettings = ["invalid_api_key", "api_key_required", "access_code_required",
    "upstream_rate_limited"].includes(error.code);
  const action = needsSettings
    ? { label: "Open Settings", run: () => view.openSettings() }
    : { label: "Try again", run: () => retry(userTurn) };
  view.appendError(error.message, action);
  setPhase("idle");
  view.setStatus(error.message, "error");
}

function retry(userTurn) {
  if (phase !== "idle") return;
  heardAt = performance.now();
  fetchReply(userTurn);
}

function afterReply() {
  spokenText = "";
  if (listener?.active) listener.abort(); // drop what the echo monitor heard
  const again = settings.turns === "hands-free" && lastTurnByVoice && listener;
  setPhase("idle");
  if (again) startListening();
}

/** Stop speaking and fetching now; keep the partial reply, marked as interrupted. */
function bargeIn({ listen, keepListener = false }) {
  if (!keepListener && listener?.active) listener.abort();
  speaker.cancel();
  if (controller) {
    controller.abort();
    controller = null;
  }
  if (reply) {
    const { turn, handle } = reply;
    delete turn.pending;
    handle.setPending(false);
    if (turn.content.trim()) {
      turn.interrupted = true;
      handle.setInterrupted();
    } else {
      conversation.turns.splice(conversation.turns.indexOf(turn), 1);
      handle.node.remove();
    }
    reply = null;
  } else {
    // The reply had fully arrived and was being spoken.
    const last = conversation.turns.at(-1);
    if (last && last.role === "assistant") {
      last.interrupted = true;
      view.renderConversation(conversation);
    }
  }
  save();
  setPhase("idle");
  if (listen) startListening();
}

function stopEverything() {
  dropCall();
  listener?.abort();
  speaker.cancel();
  controller?.abort();
  controller = null;
  reply = null;
}

// Realtime calls ------------------------------------------------------------------------------

const CALL_STATUS = {
  connecting: "Connecting to OpenAI…",
  listening: "Listening — just talk",
  thinking: "Thinking…",
  speaking: "Speaking — tap to interrupt",
};
const NEEDS_SETTINGS = ["invalid_api_key", "api_key_required", "access_code_required",
  "upstream_rate_limited"];

/** Realtime needs an OpenAI key: the person's, or the operator's they may use. */
function realtimeReady() {
  const openai = health?.providers?.openai || {};
  return Boolean(apiKey || (openai.operator_key && (!openai.access_code_required || accessCode)));
}

function realtimeStyle() {
  return settings.style === "realtime" && realtimeReady() && realtimeSupport().ok;
}

function realtimeHint() {
  const support = realtimeSupport();
  if (!support.ok) return support.reason;
  if (!realtimeReady()) {
    return "Realtime needs your OpenAI API key (or the access code). Add it below to turn it on.";
  }
  return settings.style === "realtime"
    ? "A live call with OpenAI's voice model: quicker turns, and you can talk over it. It costs more per minute."
    : "Parley listens, answers in a few sentences, then listens again. Works with any model.";
}

function callTap() {
  if (!call) startRealtime();
  else if (call.state === "speaking" || call.state === "thinking") call.interrupt();
  else call.hangUp();
}

function startRealtime() {
  if (phase === "thinking" || phase === "speaking") bargeIn({ listen: false });
  stopEverything();
  const id = ++callId;
  const live = (fn) => (...args) => { if (id === callId) fn(...args); };
  callReplies = new Map();
  view.setCallActive(true);
  const session = { mode: settings.mode };
  if (settings.realtimeVoice) session.voice = settings.realtimeVoice;
  call = startCall({
    session,
    auth: auth(),
    history: exporter.history(conversation),
    on: {
      state: live(callState),
      interim: live((text) => view.setInterim(text)),
      user: live(callUser),
      reply: live(callReply),
      replyEnd: live(callReplyEnd),
      latency: live((ms) => view.setLatency(ms)),
      audio: live(callAudio),
      notice: live((text) => view.setStatus(text || CALL_STATUS[callPhase], text ? "error" : "info")),
      end: live(callEnded),
    },
  });
}

function callState(state) {
  callPhase = state;
  phase = state === "connecting" ? "thinking" : state; // the contract's four mic states
  view.setMicState(phase);
  view.setStatus(CALL_STATUS[state]);
  if (state !== "listening") view.setInterim("");
}

function callAudio(stream) {
  view.playAudio(stream).catch((err) => {
    // Any other rejection is a play() cut short by hang-up: nothing to say.
    if (err && err.name === "NotAllowedError") {
      view.setStatus("Tap the microphone once so Parley can be heard on this device.", "error");
    }
  });
}

function callUser(text, beforeReply) {
  const turn = { role: "user", content: text, at: Date.now() };
  // A transcript can arrive after the reply to it has begun: it goes before that reply.
  const next = beforeReply && callReplies.get(beforeReply);
  const at = next ? conversation.turns.indexOf(next.turn) : -1;
  if (at >= 0) {
    conversation.turns.splice(at, 0, turn);
    view.appendMessage(turn, next.handle);
  } else {
    conversation.turns.push(turn);
    view.appendMessage(turn);
  }
  save();
}

function callReply(id, text) {
  let reply = callReplies.get(id);
  if (!reply) {
    const turn = { role: "assistant", content: "", at: Date.now(), pending: true,
      provider: "openai-realtime" };
    conversation.turns.push(turn);
    reply = { turn, handle: view.appendMessage(turn) };
    reply.handle.setPending(true);
    callReplies.set(id, reply);
  }
  reply.turn.content = text;
  reply.handle.setText(text);
  view.scrollToEnd();
  saveSoon();
}

function callReplyEnd(id, { interrupted }) {
  const reply = callReplies.get(id);
  if (!reply) return;
  delete reply.turn.pending;
  reply.handle.setPending(false);
  if (interrupted) {
    reply.turn.interrupted = true;
    reply.handle.setInterrupted();
  }
  save();
}

function callEnded(problem) {
  call = null;
  view.setCallActive(false);
  setPhase("idle");
  if (!problem) {
    view.setStatus("Call ended.");
    return;
  }
  view.setStatus(problem.message, "error");
  if (!conversation.turns.length) return; // the status line says it; the welcome stays calm
  const action = NEEDS_SETTINGS.includes(problem.code)
    ? { label: "Open Settings", run: () => view.openSettings() }
    : { label: "Call again", run: () => { view.unlockAudio(); startRealtime(); } };
  view.appendError(problem.message, action);
}

/** Let the call go without touching the conversation (it is being switched or deleted). */
function dropCall() {
  if (!call) return;
  const ending = call;
  call = null;
  callId += 1;
  ending.hangUp();
  for (const { turn, handle } of callReplies.values()) {
    if (!turn.pending) continue;
    delete turn.pending;
    turn.interrupted = true;
    handle.setPending(false);
    handle.setInterrupted();
  }
  view.playAudio(null);
  view.setCallActive(false);
}

// Talk button ---------------------------------------------------------------------------------

view.on("micTap", () => {
  speaker.unlock(); // inside the tap: iOS allows speech only from a gesture
  if (call || realtimeStyle()) {
    view.unlockAudio(); // inside the tap too: the call's <audio> plays much later
    callTap();
  } else if (phase === "idle") startListening();
  else if (phase === "listening") listener?.finish();
  else bargeIn({ listen: true });
});

view.on("micDown", () => {
  speaker.unlock();
  if (phase === "thinking" || phase === "speaking") bargeIn({ listen: false });
  if (phase === "idle") startListening();
});

view.on("hangUp", () => call?.hangUp());

view.on("micUp", () => {
  if (phase === "listening") listener?.finish();
});

view.on("send", (text) => {
  if (call) {
    if (call.sendText(text)) view.clearComposer();
    else view.setStatus("One moment: the call is still connecting.");
    return;
  }
  speaker.unlock();
  if (phase === "listening") listener?.abort();
  view.clearComposer();
  heardAt = performance.now();
  lastTurnByVoice = false;
  sendTurn(text);
});

// Settings ------------------------------------------------------------------------------------

function applySettings() {
  speaker.voice = settings.voice;
  speaker.rate = settings.rate;
  view.setMode(settings.mode);
  const live = realtimeStyle();
  if (call && !live) call.hangUp();
  view.setRealtime(live);
  view.setPushToTalk(settings.turns === "push-to-talk" && !live);
  buildListener();
  if (live) {
    // A call needs no speech recognition: the button works where the browser can't listen.
    view.setMicAvailable(true);
    view.setNotice("");
  }
  describeProviders();
}

function describeProviders() {
  if (!health) return;
  const local = health.providers?.local || {};
  const openai = health.providers?.openai || {};
  const operator = openai.operator_key && (!openai.access_code_required || accessCode);
  let note;
  if (settings.provider === "local" || (!apiKey && !operator && local.ready)) {
    note = local.ready
      ? "Answers come from the offline model on this server: quick and basic. Add an OpenAI key in Settings for sharper answers."
      : "The offline model isn't installed on this server. Add an OpenAI key in Settings.";
  } else if (!local.ready && settings.provider === "local") {
    note = "The offline model isn't installed on this server.";
  } else if (apiKey || operator) {
    note = `Answers come from OpenAI (${(openai.models || [])[0] || "default model"}).`;
  } else {
    note = openai.access_code_required
      ? "Add your OpenAI API key or the access code in Settings to start."
      : "Add your OpenAI API key in Settings to start.";
  }
  view.setWelcomeNote(realtimeStyle()
    ? "Realtime is on: tap the microphone to start a live call, and just talk." : note);
  view.setProviderInfo({
    localReady: Boolean(local.ready),
    localLabel: local.label || "Offline model",
    hint: note,
    about: `Parley ${health.version}${local.ready ? ` · offline model: ${local.model}` : ""}`,
  });
}

function fillSettings() {
  view.fillSettings(settings, {
    hasKey: Boolean(apiKey),
    accessCodeNeeded: Boolean(health?.providers?.openai?.access_code_required),
    accessCode,
    storage: health?.storage === "server",
    listenChoices: Boolean(health?.speech?.stt?.local || health?.speech?.stt?.openai),
    realtimeReady: realtimeReady() && realtimeSupport().ok,
    realtimeHint: realtimeHint(),
  });
}

view.on("openSettings", fillSettings);
view.on("settings", (changes) => {
  const rememberChanged = changes.rememberKey !== settings.rememberKey;
  const styleChanged = changes.style !== settings.style;
  settings = { ...settings, ...changes };
  store.saveSettings(settings);
  if (rememberChanged && apiKey) store.saveKey(apiKey, settings.rememberKey);
  applySettings();
  if (styleChanged) fillSettings();
});
view.on("key", (key, remember) => {
  apiKey = key;
  store.saveKey(apiKey, remember);
  applySettings();
  fillSettings();
  view.setStatus("Key saved.");
});
view.on("clearKey", () => {
  apiKey = "";
  store.saveKey("", false);
  applySettings();
  fillSettings();
  view.setStatus("Key removed from this device.");
});
view.on("accessCode", (code) => {
  accessCode = code;
  store.saveAccessCode(code);
  applySettings();
  fillSettings();
});
view.on("mode", (mode) => {
  settings = { ...settings, mode };
  store.saveSettings(settings);
  conversation.mode = mode;
  save();
  if (call) view.setStatus("The new mode starts with your next call.");
});
view.on("newConversation", () => startNewConversation());

// History -------------------------------------------------------------------------------------

function showHistory() {
  view.renderHistory(store.listConversations(), conversation.id);
}

view.on("openHistory", showHistory);
view.on("openConversation", (id) => {
  const saved = store.loadConversation(id);
  if (!saved) return;
  stopEverything();
  save();
  conversation = saved;
  store.saveConversation(conversation);
  settings = { ...settings, mode: conversation.mode || settings.mode };
  view.setMode(settings.mode);
  view.renderConversation(conversation);
  setPhase("idle");
});
view.on("deleteConversation", (id) => {
  store.deleteConversation(id);
  if (id === conversation.id) startNewConversation({ keepCurrent: false });
  showHistory();
});
view.on("deleteAll", () => {
  store.deleteAllConversations();
  startNewConversation({ keepCurrent: false });
  showHistory();
});

// Export and brief ----------------------------------------------------------------------------

let briefMarkdown = "";

async function deliver(kind, title, markdown, json, name) {
  try {
    if (kind === "share") await view.share(title, markdown);
    else if (kind === "copy") {
      await view.copy(markdown);
      view.setStatus("Copied to the clipboard.");
    } else if (kind === "json") view.download(`${name}.json`, "application/json", json);
    else view.download(`${name}.md`, "text/markdown", markdown);
  } catch (err) {
    if (err && err.name === "AbortError") return; // the share sheet was dismissed
    view.setStatus("That didn't work here. Try downloading instead.", "error");
  }
}

view.on("export", (kind) => {
  const name = exporter.filename(conversation, "x").slice(0, -2);
  deliver(kind, conversation.title || "Parley conversation", exporter.toMarkdown(conversation),
    exporter.toJSON(conversation), name);
});

view.on("brief", async () => {
  const history = exporter.history(conversation);
  view.openBrief();
  briefMarkdown = "";
  try {
    const body = { history, provider: settings.provider === "auto" ? null : settings.provider };
    for await (const { event, data } of api.brief(body, auth())) {
      if (event === "delta") {
        briefMarkdown += data.text;
        view.setBrief(briefMarkdown, false);
      } else if (event === "done") {
        briefMarkdown = data.reply;
        view.setBrief(briefMarkdown, true);
      } else if (event === "error") {
        view.briefError(data.message);
      }
    }
  } catch (err) {
    view.briefError(err instanceof api.ApiError ? err.message : "The brief could not be made.");
  }
});

view.on("briefExport", (kind) => {
  const name = `${exporter.filename(conversation, "x").slice(0, -2)}-brief`;
  deliver(kind, "Design brief", briefMarkdown, "", name);
});

// Start ---------------------------------------------------------------------------------------

window.addEventListener("pagehide", () => {
  call?.hangUp();
  if (saveTimer) save();
});

speaker.onVoices((voices) => view.setVoices(voices, settings.voice));
view.renderConversation(conversation);
setPhase("idle");
applySettings();

api.health().then((answer) => {
  health = answer;
  applySettings();
}).catch(() => {
  view.setWelcomeNote("Parley's server can't be reached right now. Check your connection.");
});

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("sw.js").catch(() => {});
}
