// The export sheet, and handing a file or text to the person: download, copy or share.

import { $, el, events, sheet } from "../dom.js";

const canShare = () => typeof navigator.share === "function";

/** Offer a file for download. */
export function download(name, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = el("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function copy(text) {
  await navigator.clipboard.writeText(text);
}

export async function share(title, text) {
  await navigator.share({ title, text });
}

export function createExportSheet() {
  const { on, emit } = events();
  const dialog = sheet($("#export-sheet"));
  for (const button of document.querySelectorAll("[data-export]")) {
    if (button.dataset.export === "share") button.hidden = !canShare();
    button.addEventListener("click", () => emit("export")(button.dataset.export));
  }
  return { on, open: () => dialog.open() };
}
