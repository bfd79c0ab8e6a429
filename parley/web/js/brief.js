// The living brief: after every reply the turns it has not seen go to the server with the
// brief so far, in the background, and the answer replaces it. Speech never waits for it; an
// update that fails leaves the brief as it was. Edits by hand win over an update in flight.

import * as api from "./api.js";
import { forConversation } from "./projects.js";

const SECTIONS = ["problem", "audience", "constraints", "decisions", "ideas", "openQuestions",
  "nextSteps"];
const NAMES = {
  problem: "the problem", audience: "who it's for", constraints: "a constraint",
  decisions: "a decision", ideas: "an idea", openQuestions: "an open question",
  nextSteps: "a next step",
};

const copy = (brief) => JSON.parse(JSON.stringify(brief));
const key = (item) => item.text.trim().toLowerCase();
const entries = (brief) => [...Object.values(brief.sections).flat(), ...brief.conflicts];

/** The server's answer for conversation `id`, everything in it tied to its conversation. */
function tied(brief, id) {
  const kept = copy(brief);
  for (const entry of entries(kept)) entry.conversationId ||= id;
  return kept;
}

/** What `after` has that `before` did not, in words ("a decision, an open question"). */
export function added(before, after) {
  const found = [];
  for (const section of SECTIONS) {
    const known = new Set((before.sections[section] || []).map(key));
    for (const item of after.sections[section] || []) {
      if (!known.has(key(item))) found.push({ section, item });
    }
  }
  return found;
}

export function describeAdded(found) {
  return [...new Set(found.map(({ section }) => NAMES[section]))].join(", ");
}

export function createLivingBrief({ thread, projects, settings, auth, onChange }) {
  let running = null;
  let again = false;
  let edits = 0; // bumped by every change by hand: an update begun before one is stale

  const brief = () => projects.current.brief;

  function change(next, news = []) {
    projects.saveBrief(next);
    onChange(next, news);
  }

  /** The settled turns (a reply still arriving is not the brief's yet). */
  function settledTurns(conversation) {
    let end = conversation.turns.length;
    while (end > 0 && conversation.turns[end - 1].pending) end -= 1;
    return conversation.turns.slice(0, end);
  }

  async function update() {
    const conversation = thread.current;
    const project = projects.current;
    const turns = settledTurns(conversation);
    const since = Math.min(conversation.briefSeen || 0, turns.length);
    if (since >= turns.length) return;
    const before = edits;
    const s = settings();
    const body = {
      // Words only: the pictures went with their turns already, and a brief is made of words.
      history: turns.map((t) => ({ role: t.role, content: t.content })),
      brief: forConversation(brief(), conversation.id),
      since,
      mode: s.mode,
      provider: s.provider === "auto" ? null : s.provider,
    };
    let result;
    try {
      result = await api.briefUpdate(body, auth());
    } catch (err) {
      // The old brief stands; the next reply tries again with these turns too.
      onChange(brief(), [], err instanceof api.ApiError ? err.message
        : "The brief couldn't be updated just now.");
      return;
    }
    if (projects.current !== project || thread.current !== conversation) return;
    if (edits !== before) {
      again = true; // edited meanwhile: read the same turns again on top of the edit
      return;
    }
    conversation.briefSeen = turns.length;
    thread.save();
    change(tied(result.brief, conversation.id), added(body.brief, result.brief));
  }

  function edit(mutate) {
    const next = copy(brief());
    mutate(next);
    edits += 1;
    change(next);
  }

  return {
    get brief() { return brief(); },
    get updating() { return Boolean(running); },

    /** A reply is over: bring the brief up to date (one update at a time, in order). */
    afterReply() {
      if (running) {
        again = true;
        return running;
      }
      running = update().finally(() => {
        running = null;
        if (again) {
          again = false;
          this.afterReply();
        }
      });
      return running;
    },
    editItem(section, index, text) {
      edit((next) => { next.sections[section][index].text = text; });
    },
    removeItem(section, index) {
      edit((next) => { next.sections[section].splice(index, 1); });
    },
    settleConflict(index) {
      edit((next) => { next.conflicts.splice(index, 1); });
    },
  };
}
