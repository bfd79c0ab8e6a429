// The brief sheet: the design brief as it is written, then ways to take it away.

import { $, el, events, renderMarkdown, sheet } from "../dom.js";

export function createBriefSheet() {
  const { on, emit } = events();
  const dialog = sheet($("#brief-sheet"));
  const text = $("#brief");
  const actions = $("#brief-actions");
  for (const button of document.querySelectorAll("[data-brief]")) {
    if (button.dataset.brief === "share") button.hidden = typeof navigator.share !== "function";
    button.addEventListener("click", () => emit("briefExport")(button.dataset.brief));
  }

  return {
    on,
    open() {
      text.replaceChildren(el("p", "pending", "Writing your brief…"));
      actions.hidden = true;
      dialog.open();
    },
    show(markdown, done) {
      renderMarkdown(text, markdown);
      actions.hidden = !done;
    },
    failed(message) {
      text.replaceChildren(el("p", null, message));
    },
  };
}
