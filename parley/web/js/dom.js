// Small DOM helpers shared by the view modules (view.js and sheets/*). Model output goes
// in with textContent, never as HTML.

import { parse } from "./markdown.js";

export const $ = (selector) => document.querySelector(selector);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function spansInto(parent, spans) {
  for (const span of spans) {
    const tag = span.strong ? "strong" : span.em ? "em" : span.code ? "code" : null;
    parent.append(tag ? el(tag, null, span.text) : document.createTextNode(span.text));
  }
}

/** Markdown through the escaping reader: text nodes and a few safe tags, never HTML. */
export function renderMarkdown(target, markdown) {
  target.replaceChildren();
  for (const block of parse(markdown)) {
    if (block.type === "ul" || block.type === "ol") {
      const list = el(block.type);
      for (const item of block.items) {
        const li = el("li");
        spansInto(li, item);
        list.append(li);
      }
      target.append(list);
    } else {
      const node = el(block.type);
      spansInto(node, block.spans);
      target.append(node);
    }
  }
}

/** Named events for a view: `on(name, handler)` to listen, `emit(name)(...args)` to fire. */
export function events() {
  const handlers = {};
  return {
    on(name, handler) { handlers[name] = handler; },
    emit: (name) => (...args) => handlers[name]?.(...args),
  };
}

/** A modal <dialog> sheet: Escape or a tap on the backdrop closes it; the opener gets the focus back. */
export function sheet(dialog) {
  let opener = null;
  const status = dialog.querySelector("[data-sheet-status]");
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    const back = opener;
    opener = null;
    // Browsers differ on where the focus goes when a dialog closes (Chromium: back to the
    // opener; WebKit: the body). This runs a task later, so only a focus that was lost is
    // put back: one the person has moved on meanwhile stays where they put it.
    const lost = document.activeElement === document.body || dialog.contains(document.activeElement);
    if (lost && back?.isConnected && !back.closest("dialog:not([open])")) back.focus();
  });
  return {
    open() {
      if (dialog.open) return;
      const active = document.activeElement;
      opener = active && active !== document.body ? active : null;
      if (status) status.textContent = "";
      dialog.showModal();
    },
    close() { dialog.close(); },
    get isOpen() { return dialog.open; },
  };
}

/** Status words, in the open sheet too (the page behind it is inert); errors interrupt. */
export function showStatus(node, text, tone) {
  const inSheet = document.querySelector("dialog[open] [data-sheet-status]");
  for (const target of new Set([node, inSheet])) {
    if (!target) continue;
    target.setAttribute("aria-live", tone === "error" ? "assertive" : "polite");
    target.textContent = text;
    target.dataset.tone = tone;
  }
}
