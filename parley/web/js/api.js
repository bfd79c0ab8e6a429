// The one module that knows Parley's URLs and wire formats.

const BASE = "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const OFFLINE = "Parley can't be reached. Check your connection and try again.";

function headersFor({ apiKey, accessCode, device, json = true, accept } = {}) {
  const headers = {};
  if (json) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  // The key travels in a header, not the body, so it never sits in a request log's body.
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  if (accessCode) headers["X-Parley-Access-Code"] = accessCode;
  if (device) headers["X-Parley-Device"] = device;
  return headers;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not our JSON: a proxy's error page, say.
  }
  const error = body && body.error;
  if (error && error.message) return new ApiError(response.status, error.code, error.message);
  return new ApiError(response.status, "http_error",
    `Parley answered with an error (${response.status}). Please try again.`);
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", OFFLINE);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

// Server-Sent Events read from a fetch body (EventSource cannot POST).
async function* sseEvents(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  } catch (err) {
    if (signal && signal.aborted) throw err;
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "The connection dropped in the middle of the answer.");
  } finally {
    reader.releaseLock();
  }
}

async function* turnStream(path, body, auth, signal) {
  const response = await send(path, {
    method: "POST",
    headers: headersFor({ ...auth, accept: "text/event-stream" }),
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  yield* sseEvents(response, signal);
}

/** One conversation turn as SSE events: delta, sentence, then done or error. */
export function conversation(body, auth, signal) {
  return turnStream("/api/conversation", body, auth, signal);
}

/** A design brief for a conversation's history, streamed as delta events then done. */
export function brief(body, auth, signal) {
  return turnStream("/api/brief", body, auth, signal);
}

/** The living brief after the latest turns (JSON; see brief.js). */
export async function briefUpdate(body, auth, signal) {
  const response = await send("/api/brief/update", {
    method: "POST", headers: headersFor(auth), body: JSON.stringify(body), signal,
  });
  return response.json();
}

/** What the server offers: providers, speech and storage. */
export async function health() {
  const response = await send("/api/health", { headers: { Accept: "application/json" } });
  return response.json();
}

/** One turn's voice-to-voice stages for /metrics (timings only). Best effort: never retried. */
export function reportTurn(timing) {
  send("/api/metrics/turn", {
    method: "POST", headers: headersFor({}), body: JSON.stringify(timing), keepalive: true,
  }).catch(() => {});
}

/** Speech-to-text for one recorded utterance; `language` ("en-US") saves detecting it. */
export async function transcribe(blob, filename, auth, signal, language) {
  const form = new FormData();
  form.append("audio", blob, filename);
  if (language) form.append("language", language);
  const response = await send("/api/transcribe", {
    method: "POST", headers: headersFor({ ...auth, json: false }), body: form, signal,
  });
  return response.json();
}

/** Text-to-speech: the response, whose body streams audio as it is made. */
export async function speech(text, options, auth, signal) {
  return send("/api/speech", {
    method: "POST",
    headers: headersFor(auth),
    body: JSON.stringify({ text, ...options }),
    signal,
  });
}

/** A short-lived Realtime client secret minted with the person's key. */
export async function realtimeSession(body, auth, signal) {
  const response = await send("/api/realtime/session", {
    method: "POST", headers: headersFor(auth), body: JSON.stringify(body), signal,
  });
  return response.json();
}

/** The SDP answer from the Realtime WebRTC endpoint the server named. */
export async function realtimeCall(url, secret, offerSdp, signal) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/sdp" },
      body: offerSdp,
      signal,
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "Realtime voice can't reach OpenAI. Check your connection.");
  }
  if (response.status === 401) {
    throw new ApiError(401, "expired_secret", "The realtime session expired. Tap to start again.");
  }
  if (!response.ok) {
    throw new ApiError(response.status, "realtime_failed",
      "OpenAI did not accept the realtime call. Please try again.");
  }
  return response.text();
}

/** The server's live ear for the recorder path (a WebSocket; see voice/streamer.js). */
export function listen() {
  const url = new URL(`${BASE}/api/listen`, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(url);
}

/** Server-side history (only when the server keeps it). */
export const sessions = {
  async list(device, cursor) {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    const response = await send(`/api/sessions${query}`, { headers: headersFor({ device }) });
    return response.json();
  },
  /** One conversation, its newest messages; `before` (a message id) pages back. */
  async get(device, id, before) {
    const query = before ? `?before=${encodeURIComponent(before)}` : "";
    const response = await send(`/api/sessions/${encodeURIComponent(id)}${query}`, {
      headers: headersFor({ device }),
    });
    return response.json();
  },
  async append(device, id, message) {
    await send(`/api/sessions/${encodeURIComponent(id)}/messages`, {
      method: "POST", headers: headersFor({ device }), body: JSON.stringify(message),
    });
  },
  async remove(device, id) {
    await send(`/api/sessions/${encodeURIComponent(id)}`, {
      method: "DELETE", headers: headersFor({ device }),
    });
  },
  async removeAll(device) {
    await send("/api/sessions", { method: "DELETE", headers: headersFor({ device }) });
  },
};

/** Projects the server keeps (only when it keeps history): a name and the living brief. */
export const projects = {
  async list(device) {
    const response = await send("/api/projects", { headers: headersFor({ device }) });
    return response.json();
  },
  async create(device, project) {
    const response = await send("/api/projects", {
      method: "POST", headers: headersFor({ device }), body: JSON.stringify(project),
    });
    return response.json();
  },
  async update(device, id, changes) {
    const response = await send(`/api/projects/${encodeURIComponent(id)}`, {
      method: "PATCH", headers: headersFor({ device }), body: JSON.stringify(changes),
    });
    return response.json();
  },
  async remove(device, id) {
    await send(`/api/projects/${encodeURIComponent(id)}`, {
      method: "DELETE", headers: headersFor({ device }),
    });
  },
};
