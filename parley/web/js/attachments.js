// Pictures waiting to go with the next turn (typed or spoken), then kept with it on the
// device. The heavy lifting (downscaling, IndexedDB) is pictures.js, fetched on demand.

export const PER_TURN = 4; // the server's cap for one turn
const PER_REQUEST = 8; // ...and for one request, history included

const pictures = () => import("./pictures.js");

export function createAttachments({ view }) {
  let pending = []; // [{key, blob, url}]
  let counter = 0;

  function remove(key) {
    const item = pending.find((p) => p.key === key);
    if (!item) return;
    URL.revokeObjectURL(item.url);
    pending = pending.filter((p) => p !== item);
    view.removeAttachment(key);
  }

  return {
    get count() { return pending.length; },

    /** Files the person picked, pasted or dropped: downscaled, shown, waiting to be sent. */
    async add(files) {
      const images = [...files].filter((f) => f.type.startsWith("image/") || !f.type);
      if (!images.length) {
        view.setStatus("That isn't a picture. Attach a screenshot or a photo.", "error");
        return;
      }
      const { prepare } = await pictures();
      for (const file of images) {
        if (pending.length >= PER_TURN) {
          view.setStatus(`A turn takes up to ${PER_TURN} pictures.`, "error");
          break;
        }
        const picture = await prepare(file);
        const key = `a${(counter += 1)}`;
        const url = URL.createObjectURL(picture.blob);
        pending.push({ key, blob: picture.blob, url });
        view.showAttachment(key, url, () => remove(key));
      }
    },

    /** Take the waiting pictures for a turn (at most `limit`; the rest wait): kept with the
     * conversation, as ids and URLs (data URLs, or what `encode` makes of each). */
    async take(conversationId, { limit = PER_TURN, encode = null } = {}) {
      if (!pending.length) return null;
      const taken = pending.slice(0, limit);
      pending = pending.slice(limit);
      if (!pending.length) view.clearAttachments();
      else for (const item of taken) view.removeAttachment(item.key);
      const { keep, dataUrl } = await pictures();
      const ids = [];
      const urls = [];
      for (const item of taken) {
        ids.push(await keep(conversationId, item.blob));
        urls.push(await (encode || dataUrl)(item.blob));
        URL.revokeObjectURL(item.url);
      }
      return { ids, urls };
    },

    /** History for the API: earlier turns' pictures as data URLs, newest first, within
     * the request's cap (pictures that do not fit are left out; the words still go). */
    async forHistory(history, already) {
      let room = PER_REQUEST - already;
      const out = history.map((t) => ({ role: t.role, content: t.content, images: [] }));
      if (room <= 0 || !history.some((t) => t.images?.length)) return out;
      const { load, dataUrl } = await pictures();
      for (let i = history.length - 1; i >= 0 && room > 0; i -= 1) {
        for (const id of (history[i].images || []).slice(0, PER_TURN)) {
          if (room <= 0) break;
          const blob = await load(id);
          if (!blob) continue;
          out[i].images.push(await dataUrl(blob));
          room -= 1;
        }
      }
      return out;
    },

    /** Object URLs for a turn's kept pictures, to show in the transcript. */
    async urls(ids) {
      const { load } = await pictures();
      const blobs = await Promise.all(ids.map(load));
      return blobs.filter(Boolean).map((blob) => URL.createObjectURL(blob));
    },

    async forget(conversationId) {
      const { forget } = await pictures();
      await forget(conversationId).catch(() => {});
    },

    async forgetAll() {
      const { forgetAll } = await pictures();
      await forgetAll().catch(() => {});
    },

    /** A conversation's pictures as data URLs, by id (for export). */
    async dataUrls(ids) {
      const { load, dataUrl } = await pictures();
      const out = {};
      for (const id of ids) {
        const blob = await load(id);
        if (blob) out[id] = await dataUrl(blob);
      }
      return out;
    },
  };
}
