// Choosing how Parley listens: the browser's recognizer, or (where it cannot be trusted)
// recording audio for the server to transcribe. Both return the same listener shape.

import { recognitionSupport } from "./capabilities.js";

/** Whether the person's choice (and this browser) call for the server to transcribe. */
export function wantsServer(preference, support = recognitionSupport()) {
  return preference === "server" || (preference === "auto" && !support.ok);
}

/**
 * The listener to use, or {listener: null, reason} when this browser cannot listen.
 * `serverListener` builds the recorder path when the server can transcribe;
 * `browserListener` the browser recognizer's (both modules are loaded on demand).
 */
export function chooseListener({ preference, serverCanTranscribe, serverListener,
  browserListener, ...callbacks }) {
  const support = recognitionSupport();
  if (wantsServer(preference, support) && serverCanTranscribe && serverListener) {
    return { listener: serverListener(callbacks), reason: support.reason };
  }
  if (support.ok && preference !== "server" && browserListener) {
    return { listener: browserListener(callbacks), reason: null };
  }
  return { listener: null, reason: support.reason || "Voice input isn't available here." };
}
