// The brief sheet: the design brief as it is written, then ways to take it away.

import { $, el, events, renderMarkdown, sheet, showStatus } from "../dom.js";

export function createBriefSheet() {
  const { on, emit } = events();
  const dialog = sheet($("#brief-sheet"));
  const text = $("#brief");
  const actions = $("#brief-actions");
  const status = $("#brief-sheet [data-sheet-status]");
  for (const button of document.querySelectorAll("[data-brief]")) {
    if (button.dataset.brief === "share") button.hidden = typeof navigator.share !== "function";
    button.addEventListener("click", () => emit("briefExport")(button.dataset.brief));
  }

  return {
    on,
    open() {
      text.replaceChildren(el("p", "pending", "Writing your brief…"));
      // Busy while it is written: a screen reader reads it when it is whole, not piece by piece.
      text.setAttribute("aria-busy", "true");
      actions.hidden = true;
      dialog.open();
    },
    show(markdown, done) {
      renderMarkdown(text, markdown);
      actions.hidden = !done;
      if (!done) return;
      text.setAttribute("aria-busy", "false");
      showStatus(status, "Your brief is ready.", "info");
    },
    failed(message) {
      text.replaceChildren(el("p", null, message));
      text.setAttribute("aria-busy", "false");
      showStatus(status, message, "error");
    },
  };
}
