// Realtime voice: one call to OpenAI's speech-to-speech model over WebRTC. This module owns
// the microphone, the peer connection and the `oai-events` channel, and hang-up releases all
// three (openai-realtime-console's stop-everything). The caller gets transcripts and states.

import * as api from "../api.js";
import { openMicrophone } from "./microphone.js";

const CONNECT_MS = 15_000; // from the SDP answer to `session.created`
const UNSTEADY_MS = 5_000; // how long a `disconnected` connection may take to come back
const HISTORY_TURNS = 24; // earlier turns of this conversation the call starts with
// Each event is one data channel message. Chromium's SCTP stack takes 256 KiB a message, and
// an answer without `a=max-message-size` means 64 KiB (RFC 8841): a picture must fit.
const MESSAGE_CEILING = 262_144;
const MESSAGE_DEFAULT = 65_536;
// OpenAI echoes a created item whole in `conversation.item.added` and `.done`, so a picture
// leaves room for the echo's envelope too; one too big is reported to close the call without
// a word (openai/openai-agents-js#501).
const ECHO_ROOM = 4_096;

const SAY = {
  micGone: "The microphone stopped (a phone call, Siri or the screen lock). Tap to call again.",
  lost: "The connection to OpenAI was lost. Check your network, then tap to call again.",
  dropped: "The realtime call dropped. Tap to call again.",
  noAnswer: "OpenAI didn't pick up the call. Check your network, then tap to try again.",
  expired: "The realtime call reached its time limit. Tap to start a new one.",
  unsteady: "The connection is unsteady — holding on…",
  hiccup: "OpenAI couldn't do that last step. Keep talking, or end the call and call again.",
  failed: "The realtime call couldn't start. Please try again.",
};

// Sent back when a response.cancel arrives after the response already ended: harmless.
const HARMLESS = new Set(["response_cancel_not_active"]);

function problemFrom(err) {
  if (err && err.code && err.message && !(err instanceof Error)) return err; // microphone
  if (err instanceof api.ApiError) return { code: err.code, message: err.message };
  return { code: "failed", message: SAY.failed };
}

/**
 * Start a call. `session` is the body for a secret ({mode, voice}); `history` the earlier
 * turns ({role, content}). Callbacks in `on`: state(connecting|listening|thinking|speaking),
 * interim(text), user(text, beforeReplyId), reply(id, text), replyEnd(id, {interrupted}),
 * latency(ms), audio(stream|null), notice(text), end(problem|null).
 */
export function startCall({ session, auth, history = [], on }) {
  const controller = new AbortController();
  let pc = null;
  let channel = null;
  let mic = null;
  let ended = false;
  let state = null;
  let reply = null; // {id, text, interrupted} of the response under way
  let speaking = false; // the model's audio is playing (output_audio_buffer.started..stopped)
  let heardAt = 0; // when the person stopped talking, for the latency readout
  let unsteady = null;
  let model = "";
  let vision = false; // the server says whether this call's model can see pictures
  let ready = null;
  const sessionCreated = new Promise((resolve) => { ready = resolve; });
  const awaiting = new Map(); // user item id → the reply that came after it (null: none yet)
  const partial = new Map(); // user item id → words transcribed so far

  function setState(next) {
    if (state === next || ended) return;
    state = next;
    on.state(next);
  }

  function send(event) {
    if (channel && channel.readyState === "open") channel.send(JSON.stringify(event));
  }

  function end(problem = null) {
    if (ended) return;
    if (reply && !reply.interrupted) on.replyEnd(reply.id, { interrupted: true });
    reply = null;
    ended = true;
    controller.abort();
    clearTimeout(unsteady);
    for (const track of mic ? mic.getTracks() : []) track.stop();
    if (pc) {
      for (const sender of pc.getSenders()) sender.track?.stop();
      channel?.close();
      pc.close();
    }
    on.audio(null);
    on.end(problem);
  }

  function interrupt() {
    if (reply && !reply.interrupted) {
      reply.interrupted = true;
      on.replyEnd(reply.id, { interrupted: true });
    }
    send({ type: "response.cancel" });
    send({ type: "output_audio_buffer.clear" });
    speaking = false;
    setState("listening");
  }

  function firstSound() {
    if (heardAt) on.latency(performance.now() - heardAt);
    heardAt = 0;
    setState("speaking");
  }

  function userSaid(itemId, text) {
    const before = awaiting.get(itemId) ?? null;
    awaiting.delete(itemId);
    partial.delete(itemId);
    on.interim("");
    if (text.trim()) on.user(text.trim(), before);
  }

  const handlers = {
    "session.created": () => ready(),
    "input_audio_buffer.speech_started": () => {
      // The person talks over the model: stop it (the server may already have).
      if (reply || speaking) interrupt();
      setState("listening");
    },
    "input_audio_buffer.speech_stopped": (event) => {
      heardAt = performance.now();
      if (!awaiting.has(event.item_id)) awaiting.set(event.item_id, null);
      setState("thinking");
    },
    "conversation.item.input_audio_transcription.delta": (event) => {
      const text = (partial.get(event.item_id) || "") + (event.delta || "");
      partial.set(event.item_id, text);
      on.interim(text);
    },
    "conversation.item.input_audio_transcription.completed": (event) => {
      userSaid(event.item_id, event.transcript || "");
    },
    "conversation.item.input_audio_transcription.failed": (event) => userSaid(event.item_id, ""),
    "response.created": (event) => {
      reply = { id: event.response.id, text: "", interrupted: false };
      // The person's transcript often arrives after the reply has begun: it goes before it.
      for (const [item, before] of awaiting) if (before === null) awaiting.set(item, reply.id);
    },
    "response.output_audio_transcript.delta": (event) => {
      if (!reply || reply.interrupted || event.response_id !== reply.id) return;
      if (!reply.text) firstSound();
      reply.text += event.delta || "";
      on.reply(reply.id, reply.text);
    },
    "response.output_audio_transcript.done": (event) => {
      if (!reply || reply.interrupted || event.response_id !== reply.id) return;
      reply.text = event.transcript || reply.text;
      on.reply(reply.id, reply.text);
    },
    "response.done": (event) => {
      const done = reply && reply.id === event.response.id ? reply : null;
      if (done && !done.interrupted) {
        on.replyEnd(done.id, { interrupted: event.response.status !== "completed" });
      }
      if (done) reply = null;
      if (event.response.status === "failed") on.notice(SAY.hiccup);
      if (!speaking && !reply) setState("listening");
    },
    "output_audio_buffer.started": () => {
      speaking = true;
      firstSound();
    },
    "output_audio_buffer.stopped": () => {
      speaking = false;
      if (!reply) setState("listening");
    },
    "output_audio_buffer.cleared": () => {
      speaking = false;
      if (!reply) setState("listening");
    },
    error: (event) => {
      const code = event.error?.code;
      if (HARMLESS.has(code)) return;
      if (code === "session_expired") end({ code, message: SAY.expired });
      else on.notice(SAY.hiccup);
    },
  };

  function onMessage(message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not an event: nothing to do with it
    }
    handlers[event.type]?.(event);
  }

  function watchConnection() {
    if (ended) return;
    const now = pc.connectionState || pc.iceConnectionState;
    if (now === "connected" || now === "completed") {
      if (unsteady) on.notice("");
      clearTimeout(unsteady);
      unsteady = null;
    } else if (now === "disconnected" && !unsteady) {
      // Wi-Fi to cellular and back: WebRTC often recovers within a few seconds.
      on.notice(SAY.unsteady);
      unsteady = setTimeout(() => end({ code: "network", message: SAY.lost }), UNSTEADY_MS);
    } else if (now === "failed") {
      end({ code: "network", message: SAY.lost });
    }
  }

  function seed() {
    for (const turn of history.slice(-HISTORY_TURNS)) {
      const type = turn.role === "user" ? "input_text" : "output_text";
      send({
        type: "conversation.item.create",
        item: { type: "message", role: turn.role, content: [{ type, text: turn.content }] },
      });
    }
  }

  async function connect() {
    setState("connecting");
    const secret = api.realtimeSession(session, auth, controller.signal);
    secret.catch(() => {}); // a denied microphone is the message to show, not this
    mic = await openMicrophone("tap to call again");
    if (ended) {
      for (const track of mic.getTracks()) track.stop();
      return;
    }
    for (const track of mic.getAudioTracks()) {
      track.addEventListener("ended", () => end({ code: "mic_gone", message: SAY.micGone }));
    }
    const minted = await secret;
    const { client_secret: value, webrtc_url: url } = minted;
    model = minted.model || "";
    vision = minted.vision === true;
    if (ended) return;
    pc = new RTCPeerConnection({ iceServers: [] });
    pc.addEventListener("track", (event) => on.audio(event.streams[0] || new MediaStream([event.track])));
    pc.addEventListener("connectionstatechange", watchConnection);
    pc.addEventListener("iceconnectionstatechange", watchConnection);
    for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
    channel = pc.createDataChannel("oai-events");
    channel.addEventListener("message", onMessage);
    channel.addEventListener("close", () => end({ code: "dropped", message: SAY.dropped }));
    // The offer goes out at once, without waiting for ICE gathering: the answer side
    // (OpenAI) learns the browser's address from its connectivity checks.
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await api.realtimeCall(url, value, pc.localDescription.sdp, controller.signal);
    if (ended) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(resolve, CONNECT_MS, "late"); });
    const outcome = await Promise.race([sessionCreated, late]);
    clearTimeout(timer);
    if (ended) return;
    if (outcome === "late") {
      end({ code: "no_answer", message: SAY.noAnswer });
      return;
    }
    seed();
    setState("listening");
  }

  connect().catch((err) => {
    if (!ended) end(problemFrom(err));
  });

  return {
    /** End the call and release the microphone, the channel and the connection. */
    hangUp() { end(null); },
    /** Stop the model mid-reply (a tap): cancel the response and cut its audio. */
    interrupt,
    /** Pictures into the call, one user item each: the model sees them when it next answers. */
    sendImages(urls) {
      if (state === "connecting" || ended) return false;
      try {
        for (const url of urls) {
          send({
            type: "conversation.item.create",
            item: { type: "message", role: "user", content: [{ type: "input_image", image_url: url }] },
          });
        }
      } catch {
        return false; // larger than the channel's max message size: send() throws a TypeError
      }
      return true;
    },
    /** The longest data URL one picture may be in this call. */
    get imageRoom() {
      const limit = pc?.sctp?.maxMessageSize || MESSAGE_DEFAULT;
      return Math.min(limit, MESSAGE_CEILING) - ECHO_ROOM;
    },
    get vision() { return vision; },
    get model() { return model; },
    /** A typed turn inside the call: the model answers it out loud. */
    sendText(text) {
      if (state === "connecting" || ended) return false;
      if (reply || speaking) interrupt();
      send({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text }] },
      });
      send({ type: "response.create" });
      heardAt = performance.now();
      on.user(text, null);
      setState("thinking");
      return true;
    },
    get state() { return state; },
  };
}
