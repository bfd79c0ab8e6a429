// Making a design brief from the conversation: streamed from the server into the brief sheet.

import * as api from "./api.js";
import * as exporter from "./exporter.js";

export function createBrief({ sheet, thread, settings, auth, attachments }) {
  let markdown = "";
  let controller = null;

  return {
    get markdown() { return markdown; },

    /** Write the brief for the current conversation, showing it as it arrives. */
    async make() {
      controller?.abort();
      controller = new AbortController();
      const { signal } = controller;
      sheet.open();
      markdown = "";
      try {
        const body = {
          history: await attachments.forHistory(exporter.history(thread.current), 0),
          provider: settings().provider === "auto" ? null : settings().provider,
        };
        for await (const { event, data } of api.brief(body, auth(), signal)) {
          if (event === "delta") {
            markdown += data.text;
            sheet.show(markdown, false);
          } else if (event === "done") {
            markdown = data.reply;
            sheet.show(markdown, true);
          } else if (event === "error") {
            sheet.failed(data.message);
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        sheet.failed(err instanceof api.ApiError ? err.message : "The brief could not be made.");
      }
    },
  };
}
