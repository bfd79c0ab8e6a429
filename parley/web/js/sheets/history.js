// The conversations sheet: past conversations, on this device and (optionally) the server.

import { $, el, events, sheet } from "../dom.js";

export function createHistorySheet() {
  const { on, emit } = events();
  const dialog = sheet($("#history-sheet"));
  const list = $("#history");
  $("#delete-all").addEventListener("click", () => {
    if (window.confirm("Delete every conversation on this device? This can't be undone.")) {
      emit("deleteAll")();
    }
  });

  return {
    on,
    open() {
      emit("open")();
      dialog.open();
    },

    render(items, currentId) {
      list.replaceChildren();
      $("#history-empty").hidden = items.length > 0;
      $("#delete-all").hidden = items.length === 0;
      for (const item of items) {
        const li = el("li");
        if (item.id === currentId) li.setAttribute("aria-current", "true");
        const open = el("button", "open");
        open.type = "button";
        const when = new Date(item.updatedAt).toLocaleString(undefined,
          { dateStyle: "medium", timeStyle: "short" });
        const where = item.remote ? "from another device" : `${item.turns} turns`;
        const project = item.project ? ` · ${item.project}` : "";
        open.append(el("strong", null, item.title || "Untitled"),
          el("small", null, `${when} · ${where}${project}`));
        open.addEventListener("click", () => {
          dialog.close();
          emit("openConversation")(item.id);
        });
        const remove = el("button", "delete");
        remove.type = "button";
        remove.setAttribute("aria-label", `Delete “${item.title || "Untitled"}”`);
        remove.append(el("span", null, "✕"));
        remove.addEventListener("click", () => emit("deleteConversation")(item.id));
        li.append(open, remove);
        list.append(li);
      }
    },
  };
}
