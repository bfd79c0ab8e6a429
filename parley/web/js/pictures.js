// Pictures in a conversation: downscaled and re-encoded in the browser before they are sent
// (a phone photo of several MB becomes a JPEG of a few hundred KB), and kept on the device
// with the conversation in IndexedDB: localStorage cannot hold them. Loaded on demand, the
// first time a picture is attached or shown.

const LONG_SIDE = 2048; // what the server sends upstream at most
const JPEG_QUALITY = 0.85;
const KEEP_PNG_BYTES = 600_000; // a small PNG (a screenshot) goes as it is: text stays sharp
const DB = "parley-pictures";
const STORE = "pictures";

/** A file or blob as a picture to send: {blob, type, width, height, ms}. */
export async function prepare(file) {
  const started = performance.now();
  const type = file.type || "";
  let bitmap = null;
  try {
    // `from-image`: a phone photo stands up as it was taken (its EXIF orientation).
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    // A format this browser cannot draw (HEIC outside Safari): the server decodes it.
    return { blob: file, type, width: 0, height: 0, ms: performance.now() - started };
  }
  const { width, height } = bitmap;
  const scale = Math.min(1, LONG_SIDE / Math.max(width, height));
  if (type === "image/png" && scale === 1 && file.size <= KEEP_PNG_BYTES) {
    bitmap.close();
    return { blob: file, type, width, height, ms: performance.now() - started };
  }
  if (typeof OffscreenCanvas !== "function") {
    // No OffscreenCanvas (Safari before 16.4): the server downsizes it instead.
    bitmap.close();
    return { blob: file, type, width, height, ms: performance.now() - started };
  }
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  const blob = await jpeg(bitmap, w, h, JPEG_QUALITY);
  bitmap.close();
  return { blob, type: "image/jpeg", width: w, height: h, ms: performance.now() - started };
}

// Smaller and smaller encodings to try for a realtime call: [scale of the long side, quality].
const CALL_STEPS = [[1, 0.85], [1, 0.7], [0.75, 0.7], [0.5, 0.7], [0.35, 0.65], [0.25, 0.6]];

/**
 * A picture as a data URL of at most `maxChars` characters, for a realtime call: OpenAI's
 * realtime `input_image` takes PNG or JPEG only, and the event carrying it is one data
 * channel message, so it is re-encoded smaller until it fits. Null when it cannot be read.
 */
export async function fit(blob, maxChars) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
  } catch {
    return null; // a format this browser cannot draw (HEIC outside Safari)
  }
  try {
    const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && (blob.type === "image/jpeg" || blob.type === "image/png")) {
      const url = await dataUrl(blob);
      if (url.length <= maxChars) return url;
    }
    // Safari before 16.4 has no OffscreenCanvas: there, only a picture that fits as it is goes.
    if (typeof OffscreenCanvas !== "function") return null;
    for (const [step, quality] of CALL_STEPS) {
      const w = Math.max(1, Math.round(bitmap.width * scale * step));
      const h = Math.max(1, Math.round(bitmap.height * scale * step));
      const url = await dataUrl(await jpeg(bitmap, w, h, quality));
      if (url.length <= maxChars) return url;
    }
    return null;
  } finally {
    bitmap.close();
  }
}

/** A drawn picture as a w x h JPEG blob. */
function jpeg(bitmap, w, h, quality) {
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // a transparent PNG becomes a JPEG on white, not on black
  context.fillRect(0, 0, w, h);
  context.drawImage(bitmap, 0, 0, w, h);
  return canvas.convertToBlob({ type: "image/jpeg", quality });
}

/** A blob as a data URL (what a request carries). */
export function dataUrl(blob) {
  return new Promise((done, fail) => {
    const reader = new FileReader();
    reader.onload = () => done(reader.result);
    reader.onerror = () => fail(reader.error);
    reader.readAsDataURL(blob);
  });
}

// ---- Kept on the device ----------------------------------------------------------------

let opening = null;
function db() {
  opening ||= new Promise((done, fail) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: "id" });
      store.createIndex("conversation", "conversation");
    };
    request.onsuccess = () => done(request.result);
    request.onerror = () => fail(request.error);
  });
  return opening;
}

async function run(mode, work) {
  const database = await db();
  return new Promise((done, fail) => {
    const tx = database.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => done(result?.result ?? result);
    tx.onerror = () => fail(tx.error);
    tx.onabort = () => fail(tx.error || new Error("This device's storage for Parley is full."));
  });
}

/** Keep a picture with a conversation; its id. */
export async function keep(conversation, blob) {
  const id = crypto.randomUUID ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  await run("readwrite", (store) => store.put({ id, conversation, blob }));
  return id;
}

/** A kept picture's blob, or null when it is gone. */
export async function load(id) {
  const record = await run("readonly", (store) => store.get(id));
  return record?.blob || null;
}

/** Forget every picture of a conversation (it was deleted). */
export async function forget(conversation) {
  await run("readwrite", (store) => {
    const request = store.index("conversation").openKeyCursor(IDBKeyRange.only(conversation));
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return;
      store.delete(cursor.primaryKey);
      cursor.continue();
    };
  });
}

/** Forget every picture on this device. */
export async function forgetAll() {
  await run("readwrite", (store) => store.clear());
}

/** How many pictures a conversation keeps (for tests and the history list). */
export async function count(conversation) {
  return run("readonly", (store) => store.index("conversation").count(conversation));
}
