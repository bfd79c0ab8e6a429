// Wiring only: the views' events go to the talk loop, the realtime call, the brief and the
// stores. No DOM here (view.js, sheets/*) and no URLs (api.js).

import { createCalls } from "./call.js";
import { createAttachments } from "./attachments.js";
import * as exporter from "./exporter.js";
import { createHistory } from "./history.js";
import { createPrefs } from "./prefs.js";
import { createProjects } from "./projects.js";
import { createServer } from "./server.js";
import { createSettingsSheet } from "./sheets/settings.js";
import * as store from "./store.js";
import { createTalk } from "./talk.js";
import { createThread } from "./thread.js";
import { createView } from "./view.js";

/**
 * A module fetched the first time it is needed, then set up once with `setUp(module)`. A
 * fetch that failed (offline before the module was ever cached) is tried again next time.
 */
function onDemand(path, setUp) {
  let ready = null;
  return () => (ready ||= import(path).then(setUp, (err) => {
    ready = null;
    throw err;
  }));
}

const view = createView();
const settingsSheet = createSettingsSheet();
const prefs = createPrefs();
const server = createServer(prefs);

const projects = createProjects({ settings: () => prefs.settings, health: () => server.health });
const thread = createThread({
  mode: prefs.settings.mode,
  onProblem: (message) => view.setStatus(message, "error"),
  // The brief catches up after a later reply if its module cannot be fetched now.
  onReplyOver: () => { living().then((brief) => brief.afterReply(), () => {}); },
});
if (!thread.current.turns.length) thread.current.projectId = projects.current.id;
const context = {
  view,
  thread,
  settings: () => prefs.settings,
  auth: () => prefs.auth(),
  health: () => server.health,
  openaiReady: () => server.openaiReady(),
  currentBrief: () => projects.current.brief,
  projects,
};
// The living brief and its panel are fetched when first needed: after the first reply, or
// when the panel is opened (at once on a wide screen, where it is always in sight).
let describeAdded = null;
const living = onDemand("./brief.js", (module) => {
  describeAdded = module.describeAdded;
  return module.createLivingBrief({
    thread, projects, settings: context.settings, auth: context.auth,
    onChange: (brief, news, problem) => showBrief(news, problem),
  });
});
let panel = null;
context.attachments = createAttachments(context);
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
view.on("holdStart", () => { if (!calls.active && !calls.chosen) talk.hold(true); });
view.on("holdEnd", () => talk.hold(false));
view.on("stop", () => {
  calls.hangUp();
  talk.stopLoop();
});
view.on("micUp", () => talk.release());
view.on("hangUp", () => calls.hangUp());
view.on("attach", async (files) => {
  await context.attachments.add(files);
  if (calls.active) calls.showPictures(); // in a call, a picture goes into it at once
});
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
  const settings = prefs.settings;
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
  const health = server.health;
  if (!health) return;
  const local = health.providers?.local || {};
  const openai = health.providers?.openai || {};
  const ready = context.openaiReady();
  let note;
  if (prefs.settings.provider === "local" || (!ready && local.ready)) {
    // Honest about what answers: Parley's own design notes (and maybe a small offline model).
    note = local.ready
      ? (local.grounded
        ? `Offline: answers come from ${local.label || "Parley's design notes"}, with no key and no internet. Add an OpenAI key (or any OpenAI-compatible server) for answers that follow you more closely.`
        : "Answers come from the offline model on this server: quick and basic. Add an OpenAI key in Settings for sharper answers.")
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
  settingsSheet.setProviderInfo({
    localReady: Boolean(local.ready),
    localLabel: "Offline model",
    hint: note,
    about: `Parley ${health.version}${local.ready ? ` · offline: ${local.label || local.model}` : ""}`,
  });
}

function fillSettings() {
  const health = server.health;
  const speech = health?.speech || {};
  settingsSheet.fill(prefs.settings, {
    hasKey: prefs.hasKey,
    accessCodeNeeded: Boolean(health?.providers?.openai?.access_code_required),
    accessCode: prefs.accessCode,
    storage: health?.storage === "server",
    listenChoices: Boolean(speech.stt?.local || speech.stt?.openai),
    speakChoices: Boolean(speech.tts?.local || speech.tts?.openai),
    realtimeReady: calls.ready,
    realtimeHint: calls.hint(),
  });
}

view.on("openSettings", () => settingsSheet.open());
settingsSheet.on("open", fillSettings);
settingsSheet.on("settings", (changes) => {
  const styleChanged = changes.style !== prefs.settings.style;
  prefs.update(changes);
  applySettings();
  if (styleChanged) fillSettings();
});
settingsSheet.on("key", (key, remember) => {
  prefs.setKey(key, remember);
  applySettings();
  fillSettings();
  view.setStatus("Key saved.");
});
settingsSheet.on("clearKey", () => {
  prefs.setKey("", false);
  applySettings();
  fillSettings();
  view.setStatus("Key removed from this device.");
});
settingsSheet.on("accessCode", (code) => {
  prefs.setAccessCode(code);
  applySettings();
  fillSettings();
});
view.on("mode", (mode) => {
  prefs.update({ mode });
  thread.setMode(mode);
  if (calls.active) view.setStatus("The new mode starts with your next call.");
});

// Conversations --------------------------------------------------------------------------------

/** Show a conversation, then its pictures (kept on the device) as they load. */
function show(conversation) {
  for (const [turn, handle] of view.renderConversation(conversation)) {
    context.attachments.urls(turn.images).then((urls) => handle.setImages(urls))
      .catch(() => {});
  }
}

function startNewConversation({ keepCurrent = true } = {}) {
  stopEverything();
  show(thread.startNew(prefs.settings.mode, { keepCurrent, projectId: projects.current.id }));
  view.setLatency(null);
  view.setStatus("");
}

/** Open a kept conversation (on this device by now). */
function openConversation(id) {
  const opened = thread.open(id);
  if (!opened) return null;
  // A conversation of another project takes the person to that project and its brief.
  if (!projects.owns(opened) && projects.switchTo(projects.of(opened))) showBrief();
  prefs.update({ mode: opened.mode || prefs.settings.mode });
  view.setMode(prefs.settings.mode);
  show(opened);
  return opened;
}

/** Every conversation, each with its project's name (started elsewhere: fetched first). */
async function showHistory(sheet) {
  const [all] = await Promise.all([history.list(), projects.refresh()]);
  const names = Object.fromEntries(projects.list().map((p) => [p.id, p.title]));
  sheet.render(all.map((c) => ({ ...c, project: names[projects.of(c)] || "" })),
    thread.current.id);
}

view.on("newConversation", () => startNewConversation());
// The conversations, export and brief sheets are fetched when first opened.
const historySheet = onDemand("./sheets/history.js", ({ createHistorySheet }) => {
  const sheet = createHistorySheet();
  sheet.on("open", () => showHistory(sheet));
  sheet.on("openConversation", async (id) => {
    stopEverything();
    // Not on this device yet: started on another one, kept on the server.
    if (!store.loadConversation(id) && !(await history.fetch(id))) {
      view.setStatus("That conversation couldn't be loaded. Try again.", "error");
      return;
    }
    openConversation(id);
  });
  sheet.on("deleteConversation", async (id) => {
    const current = id === thread.current.id;
    await history.remove(id);
    await context.attachments.forget(id);
    if (current) startNewConversation({ keepCurrent: false });
    showHistory(sheet);
  });
  sheet.on("deleteAll", async () => {
    await history.removeAll();
    await context.attachments.forgetAll();
    startNewConversation({ keepCurrent: false });
    showHistory(sheet);
  });
  return sheet;
});
view.on("openHistory", async () => (await historySheet()).open());

// Export and brief -----------------------------------------------------------------------------

async function deliver(kind, title, markdown, json, name) {
  const { copy, download, share } = await import("./sheets/export.js");
  try {
    if (kind === "share") await share(title, markdown);
    else if (kind === "copy") {
      await copy(markdown);
      view.setStatus("Copied to the clipboard.");
    } else if (kind === "json") download(`${name}.json`, "application/json", json);
    else download(`${name}.md`, "text/markdown", markdown);
  } catch (err) {
    if (err && err.name === "AbortError") return; // the share sheet was dismissed
    view.setStatus("That didn't work here. Try downloading instead.", "error");
  }
}

const exportSheet = onDemand("./sheets/export.js", ({ createExportSheet }) => {
  const sheet = createExportSheet();
  sheet.on("export", async (kind) => {
    const conversation = thread.current;
    // Pictures travel inside the files as data URLs; copying and sharing take the words.
    const ids = conversation.turns.flatMap((t) => t.images || []);
    const pictures = ids.length && (kind === "json" || kind === "markdown")
      ? await context.attachments.dataUrls(ids) : {};
    deliver(kind, conversation.title || "Parley conversation",
      exporter.toMarkdown(conversation, pictures), exporter.toJSON(conversation, pictures),
      exporter.baseName(conversation));
  });
  return sheet;
});
view.on("openExport", async () => (await exportSheet()).open());

// The living brief and projects ---------------------------------------------------------------

const countItems = (brief) => Object.values(brief.sections).reduce((n, i) => n + i.length, 0);

/** Show the brief as it is now; `news`: items just found; `problem`: an update that failed. */
function showBrief(news = [], problem = "") {
  const project = projects.current;
  view.setProject(project.title);
  view.setBriefCount(countItems(project.brief), news.length > 0);
  if (!panel) return;
  panel.render(project.brief, project, news);
  if (problem) panel.say(problem, "error");
  else if (news.length && describeAdded) panel.say(`Added to the brief: ${describeAdded(news)}.`);
}

const briefPanel = onDemand("./sheets/brief.js", async ({ createBriefPanel }) => {
  const made = createBriefPanel();
  const brief = await living();
  made.on("edit", (section, index, text) => brief.editItem(section, index, text));
  made.on("remove", (section, index) => {
    brief.removeItem(section, index);
    made.say("Removed from the brief.");
  });
  made.on("cancelEdit", () => showBrief());
  made.on("settle", (index) => brief.settleConflict(index));
  made.on("jump", (item) => {
    // An item found in another of the project's conversations opens that one first.
    if (item.conversationId && item.conversationId !== thread.current.id) {
      stopEverything();
      if (!openConversation(item.conversationId)) {
        made.say("The conversation this came from is no longer on this device.", "error");
        return;
      }
    }
    const turn = thread.turns[item.turn];
    if (!turn || !view.showTurn(turn)) made.say("That turn is no longer in the conversation.");
  });
  made.on("briefExport", (kind) => {
    const project = projects.current;
    const markdown = exporter.briefToMarkdown(project.brief, project);
    deliver(kind, project.brief.title || project.title, markdown, "",
      `${exporter.baseName({ title: project.title })}-brief`);
  });
  panel = made;
  showBrief();
  return made;
});
view.on("brief", () => briefPanel().then((made) => made.open(), () => {
  view.setStatus("The brief couldn't be loaded. Check the connection and try again.", "error");
}));
if (window.matchMedia("(min-width: 1100px)").matches) briefPanel().catch(() => {});

/** Go to another project: its latest conversation, or a new one. */
function enterProject() {
  stopEverything();
  const latest = store.listConversations().find((c) => projects.owns(c));
  if (latest) openConversation(latest.id);
  else startNewConversation();
  showBrief();
}

const projectsSheet = onDemand("./sheets/projects.js", ({ createProjectsSheet }) => {
  const sheet = createProjectsSheet();
  const render = () => {
    const counts = {};
    for (const c of store.listConversations()) {
      const id = projects.of(c);
      counts[id] = (counts[id] || 0) + 1;
    }
    sheet.render(projects.list(), projects.current, counts);
  };
  sheet.on("open", () => {
    render();
    // Projects started on another device, when the server keeps them.
    projects.refresh().then((changed) => { if (changed) render(); });
  });
  sheet.on("switch", (id) => {
    if (projects.switchTo(id)) enterProject();
  });
  sheet.on("create", (title) => {
    projects.create(title);
    stopEverything();
    startNewConversation();
    showBrief();
    view.setStatus(`New project: ${projects.current.title}.`);
  });
  sheet.on("rename", (title) => {
    projects.rename(title);
    showBrief();
    render();
  });
  return sheet;
});
view.on("openProjects", async () => (await projectsSheet()).open());

// Start ----------------------------------------------------------------------------------------

window.addEventListener("pagehide", () => {
  calls.hangUp();
  thread.flush();
  projects.flush();
});

talk.onVoices((voices) => settingsSheet.setVoices(voices, prefs.settings.voice));
show(thread.current);
showBrief();
view.setMicState("idle");
applySettings();

server.load().then(applySettings).catch(() => {
  view.setWelcomeNote("Parley's server can't be reached right now. Check your connection.");
});

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("sw.js").catch(() => {});
}
