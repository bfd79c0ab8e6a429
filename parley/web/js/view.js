// The main screen: the top bar, the transcript and the dock (talk button, status, composer).
// The sheets are their own view modules (sheets/*). Model output goes in as text.

import { $, el, events, renderMarkdown, showStatus } from "./dom.js";
import { seconds, STAGES, stageTime } from "./timing.js";

const HOLD_MS = 450; // a press this long holds the floor (hands-free)

const MIC_LABELS = {
  idle: "Start talking",
  listening: "Finish talking",
  thinking: "Stop",
  speaking: "Interrupt",
};
// Realtime style: the talk button starts and ends a call, and interrupts the model.
const CALL_LABELS = {
  idle: "Start a realtime call",
  listening: "End call",
  thinking: "Stop",
  speaking: "Interrupt",
};

export function createView() {
  const mic = $("#mic");
  const transcript = $("#transcript");
  const scroller = $("#conversation");
  const composer = $("#composer");
  const form = $("#composer-form");
  const sendButton = form.querySelector("[data-testid=send]");
  const status = $("#status");
  const interim = $("#interim");
  const latency = $("#latency");
  const latencyStages = $("#latency-stages");
  const hint = $("#talk-hint");
  const welcome = $("#welcome");
  const tools = $("#thread-tools");
  const notice = $("#notice");
  const hangUp = $("#hang-up");
  const callAudio = $("#call-audio");
  const announcer = $("#announcer");
  const briefCount = $("#brief-count");
  const nodes = new WeakMap(); // turn → its message, to show where a brief item was said
  let realtime = false;
  // The transcript is not read out as it streams (replies are heard in Parley's voice);
  // a reply nobody heard (no voice here) is, once the turn is over.
  let reply = null; // {handle, heard, done} of the latest reply, until the turn is over
  const { on: listen, emit: on } = events();

  // Talk button: a tap toggles; in push-to-talk a press holds the turn open; in hands-free a
  // long press holds the floor (no pause ends the turn until it is let go).
  let holding = false;
  let pushToTalk = false;
  let longPress = null; // hands-free: the timer that turns a press into a hold
  let heldFloor = false;
  mic.addEventListener("pointerdown", (event) => {
    if (event.button > 0) return;
    if (pushToTalk) {
      holding = true;
      mic.setPointerCapture?.(event.pointerId);
      on("micDown")();
      return;
    }
    clearTimeout(longPress);
    longPress = setTimeout(() => {
      heldFloor = true;
      mic.setPointerCapture?.(event.pointerId);
      on("holdStart")();
    }, HOLD_MS);
  });
  const release = () => {
    clearTimeout(longPress);
    longPress = null;
    if (heldFloor) on("holdEnd")();
    if (!holding) return;
    holding = false;
    on("micUp")();
  };
  mic.addEventListener("pointerup", release);
  mic.addEventListener("pointercancel", release);
  mic.addEventListener("click", (event) => {
    // A hold already acted (and its release is not a tap).
    if (heldFloor) {
      heldFloor = false;
      return;
    }
    // In push-to-talk, a pointer press already acted; a keyboard click (detail 0) did not.
    if (pushToTalk && event.detail !== 0) return;
    on("micTap")();
  });
  $("#stop").addEventListener("click", () => on("stop")());
  mic.addEventListener("contextmenu", (event) => event.preventDefault());

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = composer.value.trim();
    if (!text && !attachments.children.length) return;
    on("send")(text || "What do you think of this?");
  });
  // Tapping the readout shows how the time was spent (timing.js's stages).
  function showStages(open) {
    latency.setAttribute("aria-expanded", String(open));
    latencyStages.hidden = !open;
  }
  latency.addEventListener("click", () => showStages(latencyStages.hidden));
  latency.addEventListener("keydown", (event) => {
    if (event.key === "Escape") showStages(false);
  });

  composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const attachments = $("#attachments");
  const fitComposer = () => {
    composer.style.height = "auto";
    composer.style.height = `${Math.min(composer.scrollHeight, 120)}px`;
    sendButton.disabled = !composer.value.trim() && !attachments.children.length;
  };
  // Pictures: the attach button (photo library, camera or files on a phone), paste, and
  // drag-and-drop on a desktop.
  const picker = $("#attach-input");
  $("#attach").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    if (picker.files?.length) on("attach")([...picker.files]);
    picker.value = "";
  });
  composer.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (!files.length) return;
    event.preventDefault();
    on("attach")(files);
  });
  document.addEventListener("dragover", (event) => {
    if (event.dataTransfer?.types?.includes("Files")) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    const files = [...(event.dataTransfer?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    on("attach")(files);
  });
  composer.addEventListener("input", fitComposer);
  fitComposer();

  for (const prompt of document.querySelectorAll("[data-prompt]")) {
    prompt.addEventListener("click", () => on("send")(prompt.dataset.prompt));
  }

  hangUp.addEventListener("click", () => on("hangUp")());
  $("[data-testid=new-conversation]").addEventListener("click", () => on("newConversation")());
  $("[data-testid=settings]").addEventListener("click", () => on("openSettings")());
  $("[data-testid=history-open]").addEventListener("click", () => on("openHistory")());
  $("[data-testid=export]").addEventListener("click", () => on("openExport")());
  $("[data-testid=brief]").addEventListener("click", () => on("brief")());
  $("#project").addEventListener("click", () => on("openProjects")());
  $("#mode").addEventListener("change", (event) => on("mode")(event.target.value));

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function messageNode(turn) {
    const item = el("li", "message");
    item.setAttribute("data-testid", "message");
    item.dataset.role = turn.role;
    const who = el("span", "who", turn.role === "user" ? "You" : "Parley");
    // Replies are meant to be spoken, but a model may still write **bold** or a list:
    // shown through the escaping Markdown reader rather than as raw marks.
    const rich = turn.role === "assistant";
    const text = el(rich ? "div" : "p", "text");
    const show = (value) => (rich ? renderMarkdown(text, value) : (text.textContent = value));
    show(turn.content);
    item.append(who, text);
    nodes.set(turn, item);
    const handle = {
      node: item,
      setText: show,
      setPending(pending) {
        item.dataset.pending = pending ? "true" : "false";
        if (!rich) return;
        if (pending) {
          reply = { handle, heard: false, done: false };
          announcer.textContent = "";
        }
        else if (reply?.handle === handle) {
          reply.done = true;
          queueMicrotask(announceUnheard);
        }
      },
      setInterrupted() {
        item.dataset.interrupted = "true";
        if (!item.querySelector(".flag")) item.append(el("span", "flag", "Interrupted"));
      },
      remove() { item.remove(); },
      /** The pictures shown with this turn (object URLs). */
      setImages(urls) {
        item.querySelector(".pictures")?.remove();
        if (!urls.length) return;
        const strip = el("div", "pictures");
        for (const url of urls) {
          const image = el("img");
          image.src = url;
          image.alt = "A picture you showed Parley";
          image.setAttribute("data-testid", "message-image");
          strip.append(image);
        }
        item.insertBefore(strip, text);
      },
      get text() { return text.textContent; },
      get interrupted() { return item.dataset.interrupted === "true"; },
    };
    if (turn.interrupted) handle.setInterrupted();
    return handle;
  }

  function announceUnheard() {
    const state = mic.dataset.state;
    if (!reply?.done || state === "thinking" || state === "speaking") return;
    const { handle, heard } = reply;
    reply = null;
    if (heard || handle.interrupted || !handle.text.trim()) return;
    announcer.textContent = `Parley: ${handle.text}`;
  }

  function showThread(hasTurns) {
    welcome.hidden = hasTurns;
    tools.hidden = !hasTurns;
  }

  return {
    on: listen,
    /** Ask for the settings sheet (an error's "Open Settings" button). */
    openSettings() { on("openSettings")(); },

    setMicState(state) {
      mic.dataset.state = state;
      const labels = realtime ? CALL_LABELS : MIC_LABELS;
      mic.setAttribute("aria-label", labels[state] || labels.idle);
      hint.textContent = pushToTalk && state === "idle" ? "Hold to talk" : "";
      if (state === "speaking" && reply) reply.heard = true;
      if (state === "idle" || state === "listening") announceUnheard();
    },
    setPushToTalk(on) {
      pushToTalk = on;
      this.setMicState(mic.dataset.state);
    },
    /** Realtime style on or off: the talk button's words change. */
    setRealtime(on) {
      realtime = on;
      this.setMicState(mic.dataset.state);
    },
    /** Hands-free is going round: show the Stop control. */
    setStopVisible(visible) {
      $("#stop").hidden = !visible;
    },
    /** A realtime call is on: show the End call button. */
    setCallActive(active) {
      hangUp.hidden = !active;
    },
    /** Call inside the tap: iOS lets an <audio> element play later only if a gesture started it. */
    unlockAudio() {
      callAudio.play().catch(() => {}); // no source yet: the rejection is expected
    },
    /** Play the model's voice (a MediaStream), or stop it (null). */
    playAudio(stream) {
      callAudio.srcObject = stream;
      if (!stream) {
        callAudio.pause();
        return Promise.resolve();
      }
      return callAudio.play();
    },
    setStatus(text, tone = "info") {
      showStatus(status, text, tone);
    },
    setInterim(text) { interim.textContent = text; },
    /** The microphone's loudness (0..1) while recording, shown by the ring around the button. */
    setLevel(level) {
      mic.style.setProperty("--level", level.toFixed(2));
    },
    /** Voice input unavailable: the button stays tappable, to explain why and offer typing. */
    setMicAvailable(available) {
      mic.dataset.available = available ? "true" : "false";
      if (available) mic.removeAttribute("aria-describedby");
      else mic.setAttribute("aria-describedby", "notice");
    },
    /** The last turn's voice-to-voice time: ms (a call), or {totalMs, stages} (timing.js). */
    setLatency(timing) {
      const measured = typeof timing === "number" ? { totalMs: timing, stages: {} } : timing;
      showStages(false);
      latency.hidden = !measured;
      if (!measured) return;
      const total = seconds(measured.totalMs);
      latency.textContent = total;
      latency.dataset.ms = String(Math.round(measured.totalMs));
      const known = STAGES.filter(([stage]) => measured.stages[stage] != null);
      latency.disabled = !known.length;
      latency.setAttribute("aria-label", known.length
        ? `${total} from the end of your words to Parley's voice. Show the stages.`
        : `${total} from the end of your words to Parley's voice.`);
      latencyStages.replaceChildren(...known.map(([stage, label]) => {
        const row = el("li");
        row.dataset.stage = stage;
        row.append(el("span", null, label), el("span", "stage-time", stageTime(measured.stages[stage])));
        return row;
      }));
    },
    setNotice(text) {
      notice.textContent = text || "";
      notice.hidden = !text;
    },
    setWelcomeNote(text) { $("#welcome-note").textContent = text; },
    setProject(title) { $("#project-title-text").textContent = title; },
    /** How many items the brief holds; `fresh`: some were just found. */
    setBriefCount(count, fresh) {
      briefCount.textContent = count ? String(count) : "";
      $("#brief-count-label").textContent = count ? ", items:" : "";
      const button = $("#brief-open");
      button.dataset.fresh = "false";
      if (fresh) requestAnimationFrame(() => { button.dataset.fresh = "true"; });
    },
    /** Scroll to a turn of the conversation on screen and mark it for a moment. */
    showTurn(turn) {
      const node = nodes.get(turn);
      if (!node) return false;
      node.classList.remove("found");
      node.setAttribute("tabindex", "-1");
      node.scrollIntoView({ block: "center" });
      node.focus({ preventScroll: true });
      requestAnimationFrame(() => node.classList.add("found"));
      return true;
    },
    setMode(mode) { $("#mode").value = mode; },

    /** Show a conversation; the handles of its turns that keep pictures, to fill in. */
    renderConversation(conversation) {
      reply = null;
      transcript.replaceChildren();
      const withPictures = [];
      for (const turn of conversation.turns) {
        const handle = messageNode(turn);
        transcript.append(handle.node);
        if (turn.images?.length) withPictures.push([turn, handle]);
      }
      showThread(conversation.turns.length > 0);
      scrollToEnd();
      return withPictures;
    },

    /** A picture waiting to go with the next turn: a thumbnail that can be removed. */
    showAttachment(key, url, onRemove) {
      const item = el("li", "attachment");
      item.setAttribute("data-testid", "attachment");
      item.dataset.key = key;
      const image = el("img");
      image.src = url;
      image.alt = "Picture to send with your next turn";
      const remove = el("button", "remove");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove this picture");
      remove.append(el("span", null, "✕"));
      remove.addEventListener("click", onRemove);
      item.append(image, remove);
      attachments.append(item);
      attachments.hidden = false;
      sendButton.disabled = false;
    },
    removeAttachment(key) {
      attachments.querySelector(`[data-key="${key}"]`)?.remove();
      attachments.hidden = !attachments.children.length;
      fitComposer();
    },
    clearAttachments() {
      attachments.replaceChildren();
      attachments.hidden = true;
      fitComposer();
    },
    /** Add a message at the end, or before another message's handle. */
    appendMessage(turn, before = null) {
      const handle = messageNode(turn);
      if (before && before.node.isConnected) transcript.insertBefore(handle.node, before.node);
      else transcript.append(handle.node);
      showThread(true);
      scrollToEnd();
      return handle;
    },
    appendError(message, action) {
      const item = el("li", "message");
      item.setAttribute("data-testid", "message");
      item.dataset.role = "error";
      item.append(el("p", "text", message));
      if (action) {
        const button = el("button", "text-button fix", action.label);
        button.type = "button";
        button.addEventListener("click", action.run);
        item.append(button);
      }
      transcript.append(item);
      scrollToEnd();
    },
    scrollToEnd,

    clearComposer() {
      composer.value = "";
      fitComposer();
    },
    focusComposer() { composer.focus(); },
  };
}
