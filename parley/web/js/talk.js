// The step-by-step talk loop: listen → send the turn → speak each sentence as it arrives →
// listen again (hands-free) or wait (push-to-talk). Barge-in stops speech and the request.
// Which ear and voice are used is voice/engines.js's choice; the DOM is the view's.

import * as api from "./api.js";
import { forConversation } from "./projects.js";
import { errorAction, PHASE_STATUS } from "./status.js";
import * as store from "./store.js";
import { createTurnClock } from "./timing.js";
import { headphones, watchHeadphones } from "./voice/capabilities.js";
import { createEngines } from "./voice/engines.js";

// A language hint the server can use, or none: under LANG=C a browser reports "C" (WebKitGTK
// does), and a hint is never worth a turn.
const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/i;
const languageHint = () => (LANGUAGE_TAG.test(navigator.language || "") ? navigator.language
  : undefined);

export function createTalk({
  view, thread, settings, auth, health, history, attachments, currentBrief = () => null,
}) {
  watchHeadphones();
  let phase = "idle";
  let transcribing = false; // the recorder's turn is at the server being transcribed
  let controller = null; // aborts the reply being fetched
  let reply = null; // {turn, handle} of the reply being received or spoken
  let clock = null; // the coming reply's voice-to-voice clock (timing.js)
  let decidedAt = null; // when the recorder ended the turn, before it was transcribed
  let lastTurnByVoice = false;
  let spokenText = ""; // what Parley is saying, to tell its own echo from the person
  let overSince = 0; // when the person began talking over Parley (for barge-in)
  let holding = false; // the person holds the floor: no pause ends the turn
  let listenWhenReady = false; // tapped before the ear had loaded

  function setPhase(next) {
    phase = next;
    view.setMicState(next);
    view.setStatus(PHASE_STATUS[next]);
    if (next !== "listening") view.setInterim("");
    // Hands-free goes round by itself: a Stop is always in sight while it does.
    view.setStopVisible(next !== "idle" && settings().turns === "hands-free");
  }

  const engines = createEngines({
    settings, auth, health,
    serverAudio,
    transcribe: (blob, name) => api.transcribe(blob, name, auth(), undefined, languageHint()),
    listenSocket: api.listen,
    listenStart: () => {
      const { apiKey, accessCode } = auth();
      const provider = settings().provider === "local" ? "local" : undefined;
      return { apiKey, accessCode, language: languageHint(), provider };
    },
    pauses: { load: store.loadPauses, save: store.savePauses },
    held: () => holding,
    speakerEvents: {
      onStart() {
        if (reply?.clock) heardFirst(reply);
        if (phase === "thinking") setPhase("speaking");
        if (monitoring()) engines.listener.start(); // hear the person over Parley's voice
      },
      onIdle() {
        if (phase !== "speaking" && phase !== "thinking") return;
        if (controller) return; // the reply is still arriving; more sentences will come
        afterReply();
      },
      onBlocked() {
        view.setStatus("Tap the microphone once so Parley can speak on this device.", "error");
      },
      onError() {
        view.setStatus("A sentence couldn't be played; the text is on screen.", "error");
      },
    },
    listenerEvents: {
      onInterim: heard,
      onTurn: turnEnded,
      onError: listenerFailed,
      onListening() {
        if (phase === "listening") view.setStatus(PHASE_STATUS.listening);
      },
      onLevel: (level) => view.setLevel(level),
      onTranscribing() {
        decidedAt = performance.now();
        transcribing = true;
        setPhase("thinking");
        view.setStatus("Transcribing…");
      },
    },
    onListenerChange() {
      const listener = engines.listener;
      if (listenWhenReady && !engines.listenerLoading) {
        listenWhenReady = false;
        if (listener && phase === "idle") startListening();
      }
      view.setMicAvailable(Boolean(listener));
      view.setNotice(listener ? "" : `${engines.listenerReason} You can type instead.`);
    },
  });

  let audioFormat = null; // worked out on the first sentence the server speaks
  async function serverAudio(text, signal) {
    audioFormat ||= new Audio().canPlayType("audio/mpeg") ? "mp3" : "wav";
    const provider = settings().provider === "local" ? "local" : null;
    const response = await api.speech(text, { format: audioFormat, provider }, auth(), signal);
    return response.blob();
  }

  // Listening ------------------------------------------------------------------------------

  function startListening() {
    const listener = engines.listener;
    if (!listener && engines.listenerLoading) {
      // Tapped before the ear's module arrived (a slow network, a cold cache): listen as
      // soon as it has, rather than make the person tap again.
      listenWhenReady = true;
      view.setStatus(engines.listenerReason || "One moment: Parley is getting ready to listen.");
      return;
    }
    if (!listener) {
      view.setStatus(
        `${engines.listenerReason || "Voice input isn't available here."} Type instead.`, "error");
      view.focusComposer();
      return;
    }
    setPhase("listening");
    listener.start();
  }

  // "Interrupt by talking": while Parley speaks the listener keeps running. Words that are
  // Parley's own (its echo through the speaker) do not count, and neither does a "yeah",
  // "mm-hmm", a cough or a laugh (turn-end.js's isBackchannel): real words do.
  function monitoring() {
    const s = settings();
    const listener = engines.listener;
    return voiceBargeOn() && s.turns === "hands-free" && lastTurnByVoice
      && listener && listener.kind === "browser" && !listener.active;
  }

  /** Talking over Parley: as the person chose, or (automatic) only with headphones. */
  function voiceBargeOn() {
    const choice = settings().voiceBarge;
    if (choice === "on" || choice === true) return true;
    if (choice === "off") return false;
    return headphones();
  }

  /** The person's words, without the ones Parley itself is saying (its echo). */
  function notEcho(text) {
    const said = new Set(spokenText.toLowerCase().match(/[a-z']+/g) || []);
    return (text.toLowerCase().match(/[a-z']+/g) || []).filter((w) => !said.has(w)).join(" ");
  }

  function heard(text) {
    if (phase === "speaking" || phase === "thinking") {
      if (!voiceBargeOn()) return;
      overSince ||= performance.now();
      const verdict = engines.isBackchannel(notEcho(text), performance.now() - overSince);
      if (verdict.backchannel) return;
      overSince = 0;
      bargeIn({ listen: false, keepListener: true });
      setPhase("listening");
    }
    if (phase === "listening") view.setInterim(text);
  }

  function turnEnded(text, { path = "browser", spokeUntil } = {}) {
    view.setInterim("");
    overSince = 0;
    const transcribed = transcribing;
    transcribing = false;
    if (!transcribed && (phase === "speaking" || phase === "thinking")) {
      // Only Parley's echo was heard: keep watching for the person.
      if (monitoring()) engines.listener.start();
      return;
    }
    if (!text) {
      setPhase("idle");
      view.setStatus("I didn't catch that. Tap the mic and try again.");
      return;
    }
    clock = createTurnClock(path, { spokeUntil, decided: decidedAt ?? performance.now() });
    decidedAt = null;
    lastTurnByVoice = true;
    sendTurn(text);
  }

  function listenerFailed(problem) {
    view.setInterim("");
    if (problem.broken) {
      engines.dropListener(problem.message);
      view.setMicAvailable(false);
      view.setNotice(problem.message);
    }
    if (phase === "listening" || transcribing) setPhase("idle");
    transcribing = false;
    view.setStatus(problem.message, "error");
  }

  // Replies --------------------------------------------------------------------------------

  async function sendTurn(text) {
    if (controller || phase === "speaking") bargeIn({ listen: false });
    const turn = { role: "user", content: text, at: Date.now() };
    // Pictures attached since the last turn go with this one (typed or spoken).
    const pictures = await attachments.take(thread.current.id);
    if (pictures) turn.images = pictures.ids;
    thread.push(turn);
    const handle = view.appendMessage(turn);
    if (pictures) handle.setImages(await attachments.urls(pictures.ids));
    thread.save();
    fetchReply(turn);
  }

  async function fetchReply(userTurn) {
    const speaker = engines.speaker;
    const turn = { role: "assistant", content: "", at: Date.now(), pending: true };
    const handle = view.appendMessage(turn);
    handle.setPending(true);
    const mine = { turn, handle, clock };
    clock = null;
    reply = mine;
    controller = new AbortController();
    const { signal } = controller;
    setPhase("thinking");
    speaker.begin();
    spokenText = "";
    let failed = null;
    try {
      const s = settings();
      const images = userTurn.images?.length
        ? Object.values(await attachments.dataUrls(userTurn.images)) : [];
      const body = {
        message: userTurn.content,
        history: await attachments.forHistory(thread.historyBefore(userTurn), images.length),
        mode: s.mode,
        provider: s.provider === "auto" ? null : s.provider,
      };
      if (images.length) body.images = images;
      // The brief so far, so the reply can aim at what is still missing (brief.js).
      const brief = currentBrief();
      if (brief && Object.values(brief.sections).some((items) => items.length)) {
        body.brief = forConversation(brief, thread.current.id);
      }
      thread.push(turn);
      // With server history on, the server keeps both turns under this conversation's id.
      const keep = history.keep(thread.current);
      const who = keep ? { ...auth(), device: keep.device } : auth();
      if (keep) {
        body.sessionId = keep.sessionId;
        body.projectId = keep.projectId;
      }
      mine.clock?.mark("sent");
      for await (const { event, data } of api.conversation(body, who, signal)) {
        if (event === "delta") {
          turn.content += data.text;
          handle.setText(turn.content);
          view.scrollToEnd();
          thread.saveSoon();
        } else if (event === "sentence") {
          mine.clock?.mark("sentence");
          spokenText += ` ${data.text}`;
          speaker.say(data.text);
        } else if (event === "done") {
          turn.content = data.reply;
          handle.setText(turn.content);
          turn.provider = data.provider;
          // The server could not keep it (its database is down): this device still does.
          if (data.saved === false) {
            view.setStatus("Saved on this device; the server's history can't be reached "
              + "right now.");
          }
        } else if (event === "error") {
          failed = new api.ApiError(0, data.code, data.message);
        }
      }
    } catch (err) {
      if (signal.aborted) return; // barge-in or a new conversation: already handled
      failed = err instanceof api.ApiError ? err
        : new api.ApiError(0, "unknown", "Something went wrong. Please try again.");
    } finally {
      if (controller?.signal === signal) controller = null;
    }
    if (failed) {
      replyFailed(userTurn, mine, failed);
      return;
    }
    thread.endReply(mine, { interrupted: false });
    thread.save();
    speaker.end(); // may finish the reply at once (nothing left to say)
    const stillReplying = phase === "thinking" || phase === "speaking";
    if (stillReplying && (!speaker.supported || !speaker.speaking)) afterReply();
  }

  function replyFailed(userTurn, failedReply, error) {
    engines.speaker.end();
    thread.endReply(failedReply, { interrupted: true });
    reply = null;
    thread.save();
    const again = { label: "Try again", run: () => retry(userTurn) };
    view.appendError(error.message, errorAction(() => view.openSettings(), error.code, again));
    setPhase("idle");
    view.setStatus(error.message, "error");
  }

  function retry(userTurn) {
    if (phase !== "idle") return;
    clock = createTurnClock("typed");
    fetchReply(userTurn);
  }

  /** Parley's first sound of a reply: the readout, the turn (for export) and /metrics. */
  function heardFirst(mine) {
    mine.clock.mark("playing");
    const timing = mine.clock.timing();
    mine.clock = null;
    view.setLatency(timing);
    mine.turn.timing = timing;
    thread.saveSoon();
    if (health()?.turn_metrics) api.reportTurn(timing);
  }

  function afterReply() {
    spokenText = "";
    reply = null;
    const listener = engines.listener;
    if (listener?.active) listener.abort(); // drop what the echo monitor heard
    const again = settings().turns === "hands-free" && lastTurnByVoice && listener;
    setPhase("idle");
    if (again) startListening();
  }

  /** Stop speaking and fetching now; keep the partial reply, marked as interrupted. */
  function bargeIn({ listen, keepListener = false }) {
    if (!keepListener && engines.listener?.active) engines.listener.abort();
    engines.speaker.cancel();
    controller?.abort();
    controller = null;
    if (reply) {
      thread.endReply(reply, { interrupted: true });
      reply = null;
      thread.save();
    }
    setPhase("idle");
    if (listen) startListening();
  }

  /** Stop the hands-free loop at once: nothing sent, speech stopped, microphone released. */
  function stopLoop() {
    holding = false;
    listenWhenReady = false;
    transcribing = false;
    engines.listener?.abort();
    bargeIn({ listen: false });
    lastTurnByVoice = false; // the next reply is not followed by listening again
    view.setStatus("Stopped. Tap the mic when you're ready.");
  }

  return {
    /** The talk button: start, finish the turn now, or barge in. */
    tap() {
      engines.speaker.unlock(); // inside the tap: iOS allows speech only from a gesture
      if (phase === "idle") startListening();
      else if (phase === "listening") engines.listener?.finish();
      else bargeIn({ listen: true });
    },
    /** Push-to-talk: pressed... */
    press() {
      engines.speaker.unlock();
      if (phase === "thinking" || phase === "speaking") bargeIn({ listen: false });
      if (phase === "idle") startListening();
    },
    /** ...and released. */
    release() {
      if (phase === "listening") engines.listener?.finish();
    },
    send(text) {
      engines.speaker.unlock();
      if (phase === "listening") engines.listener?.abort();
      lastTurnByVoice = false;
      clock = createTurnClock("typed");
      sendTurn(text);
    },
    /** The Stop control. */
    stopLoop,
    /** A long press on the mic in hands-free: hold the floor however long the pause. */
    hold(on) {
      engines.speaker.unlock();
      holding = on;
      if (on && phase === "idle") startListening();
      else if (on && (phase === "thinking" || phase === "speaking")) bargeIn({ listen: true });
      else if (!on) engines.listener?.released?.();
    },
    /** Stop everything at once (new conversation, switching, a call starting). */
    stop() {
      listenWhenReady = false;
      engines.listener?.abort();
      bargeIn({ listen: false });
    },
    /** Settings or server capabilities changed: pick the voice and the ear again. */
    configure() { engines.configure(); },
    onVoices(callback) { engines.onVoices(callback); },
  };
}
