// Wiring only: the view's events go to the talk loop or the realtime call, settings and
// history go to the store. No DOM here (view.js) and no URLs (api.js).

import * as api from "./api.js";
import { createCalls } from "./call.js";
import * as exporter from "./exporter.js";
import { createHistory } from "./history.js";
import * as store from "./store.js";
import { createTalk } from "./talk.js";
import { createThread } from "./thread.js";
import { createView } from "./view.js";

const view = createView();
let settings = store.loadSettings();
let apiKey = store.loadKey();
let accessCode = store.loadAccessCode();
let health = null;

const thread = createThread({
  mode: settings.mode,
  onProblem: (message) => view.setStatus(message, "error"),
});
const context = {
  view,
  thread,
  settings: () => settings,
  auth: () => ({ apiKey: apiKey || null, accessCode: accessCode || null }),
  health: () => health,
  /** OpenAI can answer: the person's key, or the operator's that they may use. */
  openaiReady: () => {
    const openai = health?.providers?.openai || {};
    return Boolean(apiKey || (openai.operator_key && (!openai.access_code_required || accessCode)));
  },
};
context.history = createHistory(context);
const history = context.history;
const talk = createTalk(context);
const calls = createCalls(context);

function stopEverything() {
  calls.drop();
  talk.stop();
}

// Talk button and composer ---------------------------------------------------------------------

view.on("micTap", () => {
  if (calls.active || calls.chosen) {
    talk.stop();
    calls.tap();
  } else {
    talk.tap();
  }
});
view.on("micDown", () => talk.press());
view.on("micUp", () => talk.release());
view.on("hangUp", () => calls.hangUp());
view.on("send", (text) => {
  if (calls.active) {
    if (calls.send(text)) view.clearComposer();
    else view.setStatus("One moment: the call is still connecting.");
    return;
  }
  view.clearComposer();
  talk.send(text);
});

// Settings -------------------------------------------------------------------------------------

function applySettings() {
  view.setMode(settings.mode);
  const realtime = calls.chosen;
  if (calls.active && !realtime) calls.hangUp();
  view.setRealtime(realtime);
  view.setPushToTalk(settings.turns === "push-to-talk" && !realtime);
  talk.configure();
  if (realtime) {
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
  const ready = context.openaiReady();
  let note;
  if (settings.provider === "local" || (!ready && local.ready)) {
    note = local.ready
      ? "Answers come from the offline model on this server: quick and basic. Add an OpenAI key in Settings for sharper answers."
      : "The offline model isn't installed on this server. Add an OpenAI key in Settings.";
  } else if (ready) {
    note = `Answers come from OpenAI (${(openai.models || [])[0] || "default model"}).`;
  } else {
    note = openai.access_code_required
      ? "Add your OpenAI API key or the access code in Settings to start."
      : "Add your OpenAI API key in Settings to start.";
  }
  view.setWelcomeNote(calls.chosen
    ? "Realtime is on: tap the microphone to start a live call, and just talk." : note);
  view.setProviderInfo({
    localReady: Boolean(local.ready),
    localLabel: local.label || "Offline model",
    hint: note,
    about: `Parley ${health.version}${local.ready ? ` · offline model: ${local.model}` : ""}`,
  });
}

function fillSettings() {
  const speech = health?.speech || {};
  view.fillSettings(settings, {
    hasKey: Boolean(apiKey),
    accessCodeNeeded: Boolean(health?.providers?.openai?.access_code_required),
    accessCode,
    storage: health?.storage === "server",
    listenChoices: Boolean(speech.stt?.local || speech.stt?.openai),
    speakChoices: Boolean(speech.tts?.local || speech.tts?.openai),
    realtimeReady: calls.ready,
    realtimeHint: calls.hint(),
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
  thread.setMode(mode);
  if (calls.active) view.setStatus("The new mode starts with your next call.");
});

// Conversations --------------------------------------------------------------------------------

function startNewConversation({ keepCurrent = true } = {}) {
  stopEverything();
  view.renderConversation(thread.startNew(settings.mode, { keepCurrent }));
  view.setLatency(null);
  view.setStatus("");
}

async function showHistory() {
  view.renderHistory(await history.list(), thread.current.id);
}

view.on("newConversation", () => startNewConversation());
view.on("openHistory", showHistory);
view.on("openConversation", async (id) => {
  stopEverything();
  // Not on this device yet: started on another one, kept on the server.
  if (!store.loadConversation(id) && !(await history.fetch(id))) {
    view.setStatus("That conversation couldn't be loaded. Try again.", "error");
    return;
  }
  const opened = thread.open(id);
  if (!opened) return;
  settings = { ...settings, mode: opened.mode || settings.mode };
  view.setMode(settings.mode);
  view.renderConversation(opened);
});
view.on("deleteConversation", async (id) => {
  const current = id === thread.current.id;
  await history.remove(id);
  if (current) startNewConversation({ keepCurrent: false });
  showHistory();
});
view.on("deleteAll", async () => {
  await history.removeAll();
  startNewConversation({ keepCurrent: false });
  showHistory();
});

// Export and brief -----------------------------------------------------------------------------

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
  const conversation = thread.current;
  deliver(kind, conversation.title || "Parley conversation", exporter.toMarkdown(conversation),
    exporter.toJSON(conversation), exporter.baseName(conversation));
});

view.on("brief", async () => {
  view.openBrief();
  briefMarkdown = "";
  try {
    const body = {
      history: exporter.history(thread.current),
      provider: settings.provider === "auto" ? null : settings.provider,
    };
    for await (const { event, data } of api.brief(body, context.auth())) {
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
  deliver(kind, "Design brief", briefMarkdown, "", `${exporter.baseName(thread.current)}-brief`);
});

// Start ----------------------------------------------------------------------------------------

window.addEventListener("pagehide", () => {
  calls.hangUp();
  thread.flush();
});

talk.onVoices((voices) => view.setVoices(voices, settings.voice));
view.renderConversation(thread.current);
view.setMicState("idle");
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
