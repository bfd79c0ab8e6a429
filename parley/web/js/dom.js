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

/** A <dialog> sheet: tapping the dimmed backdrop closes it, as on iOS. */
export function sheet(dialog) {
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  return {
    open() { if (!dialog.open) dialog.showModal(); },
    close() { dialog.close(); },
    get isOpen() { return dialog.open; },
  };
}
