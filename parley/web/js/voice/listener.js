// Choosing how Parley listens: the browser's recognizer, or (where it cannot be trusted)
// recording audio for the server to transcribe. Both return the same listener shape.

import { recognitionSupport } from "./capabilities.js";
import { createBrowserListener } from "./recognizer.js";

/**
 * The listener to use, or {listener: null, reason} when this browser cannot listen.
 * `serverListener` builds the recorder path when the server can transcribe.
 */
export function chooseListener({ preference, serverCanTranscribe, serverListener, ...callbacks }) {
  const support = recognitionSupport();
  const wantServer = preference === "server"
    || (preference === "auto" && !support.ok);
  if (wantServer && serverCanTranscribe && serverListener) {
    return { listener: serverListener(callbacks), reason: support.reason, kind: "server" };
  }
  if (support.ok && preference !== "server") {
    return { listener: createBrowserListener(callbacks), reason: null, kind: "browser" };
  }
  return { listener: null, reason: support.reason || "Voice input isn't available here.", kind: null };
}
