// What Parley keeps on this device: settings, the key, projects and conversations
// (localStorage; pictures live in IndexedDB, see pictures.js).

const P = "parley.";
const INDEX = `${P}conversations`;
const CURRENT = `${P}current`;
const SETTINGS = `${P}settings`;
const KEY = `${P}apiKey`;
const ACCESS = `${P}accessCode`;
const DEVICE = `${P}device`;
const PAUSES = `${P}pauses`;
const PROJECTS = `${P}projects`;
const PROJECT = `${P}project`;

const DEFAULT_SETTINGS = Object.freeze({
  mode: "sparring",
  provider: "auto",
  turns: "hands-free",
  // Patience after a finished sentence; after "and...", "um" or a list Parley waits longer
  // (voice/turn-end.js), and it learns this person's own pauses.
  pauseSeconds: 3,
  // Talking over Parley: "auto" (with headphones, where it cannot hear itself), "on", "off".
  voiceBarge: "auto",
  listenWith: "auto",
  speakWith: "auto",
  style: "cascade",
  realtimeVoice: "",
  voice: "",
  rate: 1.05,
  rememberKey: true,
  serverHistory: false,
});

function read(storage, name, fallback) {
  try {
    const raw = storage.getItem(name);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(storage, name, value) {
  try {
    storage.setItem(name, JSON.stringify(value));
  } catch (err) {
    if (err && (err.name === "QuotaExceededError" || err.code === 22)) {
      throw new Error("This device's storage for Parley is full. Delete old conversations.");
    }
    throw err;
  }
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID only exists in secure contexts (https or localhost).
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Settings --------------------------------------------------------------------------------

export function loadSettings() {
  return { ...DEFAULT_SETTINGS, ...read(localStorage, SETTINGS, {}) };
}

export function saveSettings(settings) {
  write(localStorage, SETTINGS, settings);
}

// The key: on this device ("remember"), or for this tab only (sessionStorage) -----------

export function loadKey() {
  return read(sessionStorage, KEY, null) || read(localStorage, KEY, null) || "";
}

export function saveKey(key, remember) {
  localStorage.removeItem(KEY);
  sessionStorage.removeItem(KEY);
  if (key) write(remember ? localStorage : sessionStorage, KEY, key);
}

export function loadAccessCode() {
  return read(localStorage, ACCESS, "");
}

export function saveAccessCode(code) {
  if (code) write(localStorage, ACCESS, code);
  else localStorage.removeItem(ACCESS);
}

/** What turn-end.js learned of this person's pauses (JSON-safe), or undefined. */
export function loadPauses() {
  return read(localStorage, PAUSES, undefined);
}

export function savePauses(stats) {
  try {
    write(localStorage, PAUSES, stats);
  } catch {
    // Full storage: the pauses are worth less than a conversation; keep going without.
  }
}

/** A random 256-bit secret naming this device to the server's history (never shown). */
export function deviceSecret() {
  let secret = read(localStorage, DEVICE, null);
  if (!secret) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    secret = [...bytes].map((x) => x.toString(16).padStart(2, "0")).join("");
    write(localStorage, DEVICE, secret);
  }
  return secret;
}

// Conversations ---------------------------------------------------------------------------

function titleFrom(text) {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= 60) return clean;
  const cut = clean.lastIndexOf(" ", 60);
  return `${clean.slice(0, cut > 30 ? cut : 60)}…`;
}

function summary(conversation) {
  return {
    id: conversation.id,
    title: conversation.title,
    mode: conversation.mode,
    projectId: conversation.projectId || null,
    updatedAt: conversation.updatedAt,
    turns: conversation.turns.length,
  };
}

// The index of conversations on this device, as stored (unsorted).
const readIndex = () => read(localStorage, INDEX, []);

export function listConversations() {
  return readIndex().sort((a, b) => b.updatedAt - a.updatedAt);
}

export function loadConversation(id) {
  return read(localStorage, P + id, null);
}

export function createConversation(mode, projectId = null) {
  const now = Date.now();
  return { id: newId(), title: "", mode, projectId, createdAt: now, updatedAt: now, turns: [] };
}

export function saveConversation(conversation) {
  if (!conversation.turns.length) return;
  conversation.updatedAt = Date.now();
  if (!conversation.title) {
    const first = conversation.turns.find((t) => t.role === "user");
    if (first) conversation.title = titleFrom(first.content);
  }
  write(localStorage, P + conversation.id, conversation);
  const index = readIndex().filter((c) => c.id !== conversation.id);
  index.push(summary(conversation));
  write(localStorage, INDEX, index);
  localStorage.setItem(CURRENT, conversation.id);
}

export function currentConversationId() {
  return localStorage.getItem(CURRENT);
}

export function forgetCurrent() {
  localStorage.removeItem(CURRENT);
}

export function deleteConversation(id) {
  localStorage.removeItem(P + id);
  write(localStorage, INDEX, readIndex().filter((c) => c.id !== id));
  if (currentConversationId() === id) forgetCurrent();
}

export function deleteAllConversations() {
  for (const item of readIndex()) localStorage.removeItem(P + item.id);
  localStorage.removeItem(INDEX);
  forgetCurrent();
}

// Projects: a name and the living brief, carried across the project's conversations ------

const SECTIONS = ["problem", "audience", "constraints", "decisions", "ideas", "openQuestions",
  "nextSteps"];

export function emptyBrief() {
  return { title: "", sections: Object.fromEntries(SECTIONS.map((key) => [key, []])),
    conflicts: [] };
}

export function listProjects() {
  return read(localStorage, PROJECTS, []).sort((a, b) => b.updatedAt - a.updatedAt);
}

export function createProject(title) {
  const now = Date.now();
  return { id: newId(), title, brief: emptyBrief(), createdAt: now, updatedAt: now };
}

export function saveProject(project) {
  project.updatedAt = Date.now();
  const others = read(localStorage, PROJECTS, []).filter((p) => p.id !== project.id);
  write(localStorage, PROJECTS, [...others, project]);
}

export function deleteProject(id) {
  write(localStorage, PROJECTS, read(localStorage, PROJECTS, []).filter((p) => p.id !== id));
}

export function currentProjectId() {
  return localStorage.getItem(PROJECT);
}

export function setCurrentProject(id) {
  localStorage.setItem(PROJECT, id);
}
