// Past conversations: the ones on this device, and — with "Keep history on the server" on —
// the ones the server keeps for this device, so a conversation started elsewhere shows up.

import * as api from "./api.js";
import * as store from "./store.js";

const MAX_PAGES = 50; // 200 messages a page: far beyond any conversation the server keeps

/** Server messages (sender user|bot) as a device conversation (role user|assistant). */
function fromServer(session) {
  const at = (iso) => new Date(iso).getTime();
  return {
    id: session.id,
    title: session.title || "",
    mode: session.mode || "sparring",
    projectId: session.projectId || null,
    createdAt: at(session.started_at),
    updatedAt: at(session.updated_at),
    turns: session.messages.map((m) => ({
      role: m.sender === "user" ? "user" : "assistant",
      content: m.text,
      at: at(m.created_at),
      ...(m.interrupted ? { interrupted: true } : {}),
    })),
  };
}

export function createHistory({ settings, health, projects }) {
  const enabled = () => Boolean(settings().serverHistory && health()?.storage === "server");

  return {
    /** What a turn needs to be kept on the server: the session id and this device. */
    keep(conversation) {
      if (!enabled()) return null;
      return { sessionId: conversation.id, projectId: projects.of(conversation),
        device: store.deviceSecret() };
    },

    /** Keep a turn that was not a conversation request (a realtime call's transcripts). */
    async append(conversation, turn) {
      if (!enabled() || !turn.content.trim()) return;
      await api.sessions.append(store.deviceSecret(), conversation.id, {
        sender: turn.role === "user" ? "user" : "bot",
        text: turn.content,
        interrupted: Boolean(turn.interrupted),
        mode: conversation.mode,
      }).catch(() => {}); // the device keeps it either way
    },

    /** Every conversation, newest first; server-only ones are marked `remote`. */
    async list() {
      const local = store.listConversations();
      if (!enabled()) return local;
      let page;
      try {
        page = await api.sessions.list(store.deviceSecret());
      } catch {
        return local; // the device's list is still worth showing
      }
      const known = new Set(local.map((c) => c.id));
      const remote = page.sessions.filter((s) => !known.has(s.id)).map((s) => ({
        id: s.id, title: s.title, mode: s.mode, updatedAt: new Date(s.updated_at).getTime(),
        projectId: s.projectId || null, remote: true,
      }));
      return [...local, ...remote].sort((a, b) => b.updatedAt - a.updatedAt);
    },

    /** A server conversation, copied onto this device; null when it is gone. */
    async fetch(id) {
      try {
        const device = store.deviceSecret();
        const session = await api.sessions.get(device, id);
        // A long conversation comes a page at a time, newest first (bounded).
        for (let page = 0; session.next_before && page < MAX_PAGES; page += 1) {
          const older = await api.sessions.get(device, id, session.next_before);
          session.messages = [...older.messages, ...session.messages];
          session.next_before = older.next_before;
        }
        const conversation = fromServer(session);
        store.saveConversation(conversation);
        return conversation;
      } catch {
        return null;
      }
    },

    /** Delete everywhere it is kept. */
    async remove(id) {
      store.deleteConversation(id);
      if (enabled()) await api.sessions.remove(store.deviceSecret(), id).catch(() => {});
    },

    async removeAll() {
      store.deleteAllConversations();
      if (enabled()) await api.sessions.removeAll(store.deviceSecret()).catch(() => {});
    },
  };
}
