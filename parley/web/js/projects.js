// Projects: conversations belong to one, and its living brief carries across them. Kept on
// the device always; on the server too with "Keep history on the server" on.

import * as api from "./api.js";
import * as store from "./store.js";

const FIRST = "My project";
const copy = (value) => JSON.parse(JSON.stringify(value));

/**
 * A brief as the server reads it for conversation `id`: what was found in this conversation
 * carries no `conversationId` (its turns are this conversation's); what was found in another
 * of the project's conversations keeps one.
 */
export function forConversation(brief, id) {
  const sent = copy(brief);
  for (const entry of [...Object.values(sent.sections).flat(), ...sent.conflicts]) {
    if (entry.conversationId === id) delete entry.conversationId;
  }
  return sent;
}
const SYNC_MS = 800; // a brief changes in bursts (an update, then an edit): one PATCH for them

export function createProjects({ settings, health }) {
  const onServer = () => Boolean(settings().serverHistory && health()?.storage === "server");
  let current = restore();
  const timers = new Map();

  function restore() {
    const saved = store.listProjects();
    const chosen = saved.find((p) => p.id === store.currentProjectId()) || saved[0];
    if (chosen) return chosen;
    const first = store.createProject(FIRST);
    store.saveProject(first);
    store.setCurrentProject(first.id);
    return first;
  }

  /** Copy a project to the server (created there the first time it is seen). */
  async function push(project) {
    if (!onServer()) return;
    const device = store.deviceSecret();
    const fields = { title: project.title, brief: project.brief };
    try {
      await api.projects.update(device, project.id, fields);
    } catch (err) {
      if (!(err instanceof api.ApiError) || err.status !== 404) return; // the device keeps it
      await api.projects.create(device, { id: project.id, ...fields }).catch(() => {});
    }
  }

  function pushSoon(project) {
    clearTimeout(timers.get(project.id));
    timers.set(project.id, setTimeout(() => {
      timers.delete(project.id);
      push(project);
    }, SYNC_MS));
  }

  function keep(project) {
    store.saveProject(project);
    pushSoon(project);
  }

  return {
    get current() { return current; },
    list: () => store.listProjects(),
    /** The project a conversation belongs to: its own, or the first one for older ones. */
    of(conversation) {
      if (conversation.projectId) return conversation.projectId;
      return store.listProjects().reduce((a, b) => (a.createdAt <= b.createdAt ? a : b)).id;
    },
    owns(conversation) { return this.of(conversation) === current.id; },
    create(title) {
      current = store.createProject(title.trim() || FIRST);
      store.setCurrentProject(current.id);
      keep(current);
      return current;
    },
    switchTo(id) {
      const found = store.listProjects().find((p) => p.id === id);
      if (!found) return null;
      current = found;
      store.setCurrentProject(id);
      return current;
    },
    rename(title) {
      if (!title.trim()) return;
      current.title = title.trim();
      keep(current);
    },
    saveBrief(brief) {
      current.brief = brief;
      keep(current);
    },
    /** Bring in the server's projects this device lacks or has older; true when any came. */
    async refresh() {
      if (!onServer()) return false;
      let page;
      try {
        page = await api.projects.list(store.deviceSecret());
      } catch {
        return false; // the device's projects are still worth showing
      }
      let changed = false;
      for (const remote of page.projects) {
        const local = store.listProjects().find((p) => p.id === remote.id);
        const updatedAt = new Date(remote.updatedAt).getTime();
        if (local && local.updatedAt >= updatedAt) continue;
        const project = { id: remote.id, title: remote.title, brief: remote.brief,
          createdAt: new Date(remote.createdAt).getTime(), updatedAt };
        store.saveProject(project);
        if (project.id === current.id) current = project;
        changed = true;
      }
      return changed;
    },
    /** Send what is waiting now (the page is going away). */
    flush() {
      for (const [id, timer] of timers) {
        clearTimeout(timer);
        const project = store.listProjects().find((p) => p.id === id);
        if (project) push(project);
      }
      timers.clear();
    },
  };
}
