// The brief panel: the living brief, section by section, filling in as the person talks. A
// side panel on a wide screen; on a phone the same panel is shown in the brief sheet. Item
// text goes in with textContent: whatever a model or a person wrote, it is never HTML.

import { $, el, events, sheet } from "../dom.js";

const HEADINGS = {
  problem: "Problem", audience: "Audience", constraints: "Constraints", decisions: "Decisions",
  ideas: "Ideas", openQuestions: "Open questions", nextSteps: "Next steps",
};
// What a brief needs before it is worth handing over; named while still missing.
const ESSENTIAL = ["problem", "audience", "constraints", "decisions"];
const WIDE = "(min-width: 1100px)";

export function createBriefPanel() {
  const { on, emit } = events();
  const panel = $("#brief-panel");
  const side = $("#brief-side");
  const dialog = $("#brief-sheet");
  const slot = $("#brief-slot");
  const modal = sheet(dialog);
  const body = $("#brief-body");
  const subtitle = $("#brief-subtitle");
  const actions = $("#brief-actions");
  const status = $("#brief-status");
  const wide = window.matchMedia(WIDE);
  let fresh = new Set(); // the items just found, marked for a moment

  for (const button of panel.querySelectorAll("[data-brief]")) {
    if (button.dataset.brief === "share") button.hidden = typeof navigator.share !== "function";
    button.addEventListener("click", () => emit("briefExport")(button.dataset.brief));
  }
  // On a phone the panel lives in the sheet while it is open, and beside the talk otherwise.
  dialog.addEventListener("close", () => side.append(panel));
  wide.addEventListener("change", () => { if (wide.matches && modal.isOpen) modal.close(); });

  function itemNode(section, item, index) {
    const li = el("li", "brief-item");
    li.setAttribute("data-testid", "brief-item");
    li.dataset.section = section;
    if (fresh.has(`${section}:${item.text}`)) li.dataset.fresh = "true";
    const linked = item.turn !== null && item.turn !== undefined;
    const text = el(linked ? "button" : "p", "brief-text", item.text);
    if (linked) {
      text.type = "button";
      text.title = "Show where this was said";
      text.addEventListener("click", () => {
        if (modal.isOpen) modal.close();
        emit("jump")(item);
      });
    }
    const edit = el("button", "brief-tool");
    edit.type = "button";
    edit.setAttribute("aria-label", `Edit: ${item.text}`);
    edit.append(el("span", null, "Edit"));
    edit.addEventListener("click", () => startEditing(li, section, index, item.text));
    const remove = el("button", "brief-tool");
    remove.type = "button";
    remove.setAttribute("aria-label", `Remove: ${item.text}`);
    remove.append(el("span", null, "Remove"));
    remove.addEventListener("click", () => emit("remove")(section, index));
    const tools = el("div", "brief-tools");
    tools.append(edit, remove);
    li.append(text, tools);
    return li;
  }

  function startEditing(li, section, index, value) {
    const form = el("form", "brief-editing");
    const label = el("label", "visually-hidden", `Edit this ${HEADINGS[section].toLowerCase()} item`);
    const input = el("textarea");
    input.id = `brief-edit-${section}-${index}`;
    label.htmlFor = input.id;
    input.value = value;
    input.rows = 2;
    input.maxLength = 600;
    const save = el("button", "text-button", "Save");
    save.type = "submit";
    const cancel = el("button", "text-button", "Cancel");
    cancel.type = "button";
    form.append(label, input, save, cancel);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text && text !== value) emit("edit")(section, index, text);
      else li.replaceWith(itemNode(section, { text: value, turn: null }, index));
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // the sheet stays open
        emit("cancelEdit")();
      }
    });
    cancel.addEventListener("click", () => emit("cancelEdit")());
    li.replaceChildren(form);
    input.focus();
  }

  function conflictsNode(conflicts) {
    const box = el("section", "brief-conflicts");
    box.setAttribute("aria-labelledby", "brief-conflicts-title");
    const title = el("h3", null, "To settle");
    title.id = "brief-conflicts-title";
    const list = el("ul");
    conflicts.forEach((conflict, index) => {
      const li = el("li", "brief-conflict");
      li.setAttribute("data-testid", "brief-conflict");
      li.append(el("p", "brief-text", `You decided: \u201c${conflict.decision}\u201d`));
      if (conflict.note) li.append(el("p", "brief-note", conflict.note));
      const settle = el("button", "text-button", "Settled");
      settle.type = "button";
      settle.setAttribute("aria-label", `Settled: ${conflict.decision}`);
      settle.addEventListener("click", () => emit("settle")(index));
      li.append(settle);
      list.append(li);
    });
    box.append(title, list);
    return box;
  }

  return {
    on,
    /** Show the brief; `news` are the items just found (marked, and announced). */
    render(brief, project, news = []) {
      fresh = new Set(news.map(({ section, item }) => `${section}:${item.text}`));
      subtitle.textContent = brief.title && brief.title !== project.title
        ? `${project.title} \u00b7 ${brief.title}` : project.title;
      const parts = [];
      if (brief.conflicts.length) parts.push(conflictsNode(brief.conflicts));
      let count = 0;
      for (const [section, heading] of Object.entries(HEADINGS)) {
        const items = brief.sections[section] || [];
        if (!items.length) continue;
        count += items.length;
        const group = el("section", "brief-section");
        group.dataset.section = section;
        const h = el("h3", null, heading);
        h.id = `brief-h-${section}`;
        group.setAttribute("aria-labelledby", h.id);
        const list = el("ul");
        items.forEach((item, index) => list.append(itemNode(section, item, index)));
        group.append(h, list);
        parts.push(group);
      }
      const missing = ESSENTIAL.filter((s) => !(brief.sections[s] || []).length);
      if (!count) {
        parts.push(el("p", "hint", "Your brief fills in as you talk: the problem, who it's for, "
          + "what you decide and what is still open. Tap an item to see where you said it."));
      } else if (missing.length) {
        parts.push(el("p", "hint brief-missing",
          `Not pinned down yet: ${missing.map((s) => HEADINGS[s].toLowerCase()).join(", ")}.`));
      }
      body.replaceChildren(...parts);
      actions.hidden = !count;
      return count;
    },
    /** Status words for the panel (read out politely: it fills in while the person talks). */
    say(text, tone = "info") {
      status.dataset.tone = tone;
      status.textContent = text || "";
    },
    /** On a phone: the panel in its sheet. On a wide screen it is already in sight. */
    open() {
      if (wide.matches) {
        panel.querySelector("h2").focus();
        return;
      }
      slot.append(panel);
      modal.open();
    },
    get isOpen() { return modal.isOpen || wide.matches; },
  };
}
