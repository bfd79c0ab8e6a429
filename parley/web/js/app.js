// Wiring: the talk loop's state machine between the view, the voice modules, the API
// and the store. No DOM here (view.js) and no URLs (api.js).

import * as api from "./api.js";
import * as exporter from "./exporter.js";
import * as store from "./store.js";
import { createView } from "./view.js";
import { chooseListener } from "./voice/listener.js";
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
  listener?.abort();
  speaker.cancel();
  controller?.abort();
  controller = null;
  reply = null;
}

// Talk button ---------------------------------------------------------------------------------

view.on("micTap", () => {
  speaker.unlock(); // inside the tap: iOS allows speech only from a gesture
  if (phase === "idle") startListening();
  else if (phase === "listening") listener?.finish();
  else bargeIn({ listen: true });
});

view.on("micDown", () => {
  speaker.unlock();
  if (phase === "thinking" || phase === "speaking") bargeIn({ listen: false });
  if (phase === "idle") startListening();
});

view.on("micUp", () => {
  if (phase === "listening") listener?.finish();
});

view.on("send", (text) => {
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
  view.setPushToTalk(settings.turns === "push-to-talk");
  buildListener();
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
  view.setWelcomeNote(note);
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
  });
}

view.on("openSettings", fillSettings);
view.on("settings", (changes) => {
  const rememberChanged = changes.rememberKey !== settings.rememberKey;
  settings = { ...settings, ...changes };
  store.saveSettings(settings);
  if (rememberChanged && apiKey) store.saveKey(apiKey, settings.rememberKey);
  applySettings();
});
view.on("key", (key, remember) => {
  apiKey = key;
  store.saveKey(apiKey, remember);
  describeProviders();
  fillSettings();
  view.setStatus("Key saved.");
});
view.on("clearKey", () => {
  apiKey = "";
  store.saveKey("", false);
  describeProviders();
  fillSettings();
  view.setStatus("Key removed from this device.");
});
view.on("accessCode", (code) => {
  accessCode = code;
  store.saveAccessCode(code);
  describeProviders();
});
view.on("mode", (mode) => {
  settings = { ...settings, mode };
  store.saveSettings(settings);
  conversation.mode = mode;
  save();
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
