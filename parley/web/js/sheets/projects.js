// The projects sheet: switch project, start one, rename the current one. A project's brief
// carries across its conversations.

import { $, el, events, sheet } from "../dom.js";

export function createProjectsSheet() {
  const { on, emit } = events();
  const dialog = sheet($("#projects-sheet"));
  const list = $("#projects");
  const form = $("#project-new");
  const name = $("#project-name");
  const rename = $("#project-rename");
  const renameField = $("#project-title");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const title = name.value.trim();
    if (!title) return;
    name.value = "";
    dialog.close();
    emit("create")(title);
  });
  rename.addEventListener("submit", (event) => {
    event.preventDefault();
    if (renameField.value.trim()) emit("rename")(renameField.value.trim());
  });

  return {
    on,
    open() {
      emit("open")();
      dialog.open();
    },
    render(projects, current, counts) {
      renameField.value = current.title;
      list.replaceChildren();
      for (const project of projects) {
        const li = el("li");
        const open = el("button", "open");
        open.type = "button";
        if (project.id === current.id) open.setAttribute("aria-current", "true");
        const items = Object.values(project.brief?.sections || {}).flat().length;
        const talks = counts[project.id] || 0;
        open.append(el("strong", null, project.title),
          el("small", null, `${talks} ${talks === 1 ? "conversation" : "conversations"} \u00b7 `
            + `${items} ${items === 1 ? "item" : "items"} in the brief`));
        open.addEventListener("click", () => {
          dialog.close();
          if (project.id !== current.id) emit("switch")(project.id);
        });
        li.append(open);
        list.append(li);
      }
    },
  };
}
