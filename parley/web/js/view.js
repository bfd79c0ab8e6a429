// The only module that touches the DOM. Model output goes in with textContent, never as HTML.

import { parse } from "./markdown.js";

const $ = (selector) => document.querySelector(selector);

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


function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function spansInto(parent, spans) {
  for (const span of spans) {
    const tag = span.strong ? "strong" : span.em ? "em" : span.code ? "code" : null;
    parent.append(tag ? el(tag, null, span.text) : document.createTextNode(span.text));
  }
}

function renderMarkdown(target, markdown) {
  target.replaceChildren();
  for (const block of parse(markdown)) {
    if (block.type === "ul" || block.type === "ol") {
      const list = el(block.type);
      for (const item of block.items) {
        const li = el("li");
        spansInto(li, item);
        list.append(li);
      }
      target.append(list);
    } else {
      const node = el(block.type);
      spansInto(node, block.spans);
      target.append(node);
    }
  }
}

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
  const hint = $("#talk-hint");
  const welcome = $("#welcome");
  const tools = $("#thread-tools");
  const notice = $("#notice");
  const hangUp = $("#hang-up");
  const callAudio = $("#call-audio");
  let realtime = false;
  const sheets = {
    settings: $("#settings-sheet"),
    history: $("#history-sheet"),
    export: $("#export-sheet"),
    brief: $("#brief-sheet"),
  };
  const handlers = {};
  const on = (name) => (...args) => handlers[name]?.(...args);

  // Talk button: a tap toggles; in push-to-talk a press holds the turn open.
  let holding = false;
  let pushToTalk = false;
  mic.addEventListener("pointerdown", (event) => {
    if (!pushToTalk || event.button > 0) return;
    holding = true;
    mic.setPointerCapture?.(event.pointerId);
    on("micDown")();
  });
  const release = () => {
    if (!holding) return;
    holding = false;
    on("micUp")();
  };
  mic.addEventListener("pointerup", release);
  mic.addEventListener("pointercancel", release);
  mic.addEventListener("click", (event) => {
    // In push-to-talk, a pointer press already acted; a keyboard click (detail 0) did not.
    if (pushToTalk && event.detail !== 0) return;
    on("micTap")();
  });
  mic.addEventListener("contextmenu", (event) => event.preventDefault());

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = composer.value.trim();
    if (!text) return;
    on("send")(text);
  });
  composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const fitComposer = () => {
    composer.style.height = "auto";
    composer.style.height = `${Math.min(composer.scrollHeight, 120)}px`;
    sendButton.disabled = !composer.value.trim();
  };
  composer.addEventListener("input", fitComposer);
  fitComposer();

  for (const prompt of document.querySelectorAll("[data-prompt]")) {
    prompt.addEventListener("click", () => on("send")(prompt.dataset.prompt));
  }

  hangUp.addEventListener("click", () => on("hangUp")());
  $("[data-testid=new-conversation]").addEventListener("click", () => on("newConversation")());
  const openSettings = () => {
    on("openSettings")();
    sheets.settings.showModal();
  };
  $("[data-testid=settings]").addEventListener("click", openSettings);
  $("[data-testid=history-open]").addEventListener("click", () => {
    on("openHistory")();
    sheets.history.showModal();
  });
  $("[data-testid=export]").addEventListener("click", () => sheets.export.showModal());
  $("[data-testid=brief]").addEventListener("click", () => on("brief")());
  $("#mode").addEventListener("change", (event) => on("mode")(event.target.value));

  // Tapping the dimmed backdrop closes a sheet, as on iOS.
  for (const sheet of Object.values(sheets)) {
    sheet.addEventListener("click", (event) => {
      if (event.target === sheet) sheet.close();
    });
  }

  // Settings sheet -------------------------------------------------------------------------
  const settingsForm = $("#settings-form");
  const keyInput = $("#api-key");
  const remember = $("#remember-key");
  const access = $("#access-code");
  const pause = $("#pause");
  const rate = $("#rate");
  const voice = $("#voice");
  const listenWith = $("#listen-with");
  const speakWith = $("#speak-with");
  const serverHistory = $("#server-history");
  const realtimeVoice = $("#realtime-voice");
  const styleHint = $("#style-hint");
  const showPause = () => { $("#pause-out").textContent = `${Number(pause.value).toFixed(1)} s`; };
  const showRate = () => { $("#rate-out").textContent = `${Number(rate.value).toFixed(2)}×`; };
  const readSettings = () => ({
    style: settingsForm.elements.style.value,
    realtimeVoice: realtimeVoice.value,
    provider: settingsForm.elements.provider.value,
    turns: settingsForm.elements.turns.value,
    pauseSeconds: Number(pause.value),
    rate: Number(rate.value),
    voice: voice.value,
    voiceBarge: $("#voice-barge").checked,
    listenWith: listenWith.value,
    speakWith: speakWith.value,
    rememberKey: remember.checked,
    serverHistory: serverHistory.checked,
  });
  settingsForm.addEventListener("change", (event) => {
    if (event.target === keyInput || event.target === access) return;
    on("settings")(readSettings());
  });
  pause.addEventListener("input", showPause);
  rate.addEventListener("input", showRate);
  // The field is only ever a place to paste a new key: empty means "no change".
  const takeKey = () => {
    const key = keyInput.value.trim();
    if (!key) return;
    keyInput.value = "";
    on("key")(key, remember.checked);
  };
  keyInput.addEventListener("change", takeKey);
  access.addEventListener("change", () => on("accessCode")(access.value.trim()));
  $("#key-clear").addEventListener("click", () => {
    keyInput.value = "";
    on("clearKey")();
  });
  // A pasted key counts even if the person closes the sheet without leaving the field.
  sheets.settings.addEventListener("close", takeKey);

  // History sheet --------------------------------------------------------------------------
  const historyList = $("#history");
  $("#delete-all").addEventListener("click", () => {
    if (window.confirm("Delete every conversation on this device? This can't be undone.")) {
      on("deleteAll")();
    }
  });

  // Export and brief -----------------------------------------------------------------------
  const canShare = typeof navigator.share === "function";
  for (const button of document.querySelectorAll("[data-export]")) {
    if (button.dataset.export === "share") button.hidden = !canShare;
    button.addEventListener("click", () => on("export")(button.dataset.export));
  }
  for (const button of document.querySelectorAll("[data-brief]")) {
    if (button.dataset.brief === "share") button.hidden = !canShare;
    button.addEventListener("click", () => on("briefExport")(button.dataset.brief));
  }
  const briefText = $("#brief");

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
    const handle = {
      node: item,
      setText: show,
      setPending(pending) { item.dataset.pending = pending ? "true" : "false"; },
      setInterrupted() {
        item.dataset.interrupted = "true";
        if (!item.querySelector(".flag")) item.append(el("span", "flag", "Interrupted"));
      },
    };
    if (turn.interrupted) handle.setInterrupted();
    return handle;
  }

  function showThread(hasTurns) {
    welcome.hidden = hasTurns;
    tools.hidden = !hasTurns;
  }

  return {
    on(name, handler) { handlers[name] = handler; },

    setMicState(state) {
      mic.dataset.state = state;
      const labels = realtime ? CALL_LABELS : MIC_LABELS;
      mic.setAttribute("aria-label", labels[state] || labels.idle);
      mic.setAttribute("aria-pressed", state === "listening" ? "true" : "false");
      hint.textContent = pushToTalk && state === "idle" ? "Hold to talk" : "";
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
      status.textContent = text;
      status.dataset.tone = tone;
    },
    setInterim(text) { interim.textContent = text; },
    /** The microphone's loudness (0..1) while recording, shown by the ring around the button. */
    setLevel(level) {
      mic.style.setProperty("--level", level.toFixed(2));
    },
    /** Voice input unavailable: the button stays tappable, to explain why and offer typing. */
    setMicAvailable(available) {
      mic.dataset.available = available ? "true" : "false";
      mic.setAttribute("aria-description", available ? "" : "Voice input is unavailable here");
    },
    setLatency(ms) {
      latency.textContent = ms == null ? "" : `${(ms / 1000).toFixed(1)} s`;
      latency.dataset.ms = ms == null ? "" : String(Math.round(ms));
    },
    setNotice(text) {
      notice.textContent = text || "";
      notice.hidden = !text;
    },
    setWelcomeNote(text) { $("#welcome-note").textContent = text; },
    setMode(mode) { $("#mode").value = mode; },

    renderConversation(conversation) {
      transcript.replaceChildren();
      for (const turn of conversation.turns) transcript.append(messageNode(turn).node);
      showThread(conversation.turns.length > 0);
      scrollToEnd();
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

    fillSettings(settings, {
      hasKey, accessCodeNeeded, accessCode, storage, listenChoices, speakChoices, realtimeReady,
      realtimeHint,
    }) {
      const realtimeOn = settings.style === "realtime" && realtimeReady;
      settingsForm.elements.style.value = realtimeOn ? "realtime" : "cascade";
      settingsForm.querySelector("[data-testid=realtime-toggle]").disabled = !realtimeReady;
      styleHint.textContent = realtimeHint;
      realtimeVoice.value = settings.realtimeVoice || "";
      $("#realtime-voice-row").hidden = !realtimeOn;
      settingsForm.elements.provider.value = settings.provider;
      settingsForm.elements.turns.value = settings.turns;
      pause.value = String(settings.pauseSeconds);
      rate.value = String(settings.rate);
      $("#voice-barge").checked = settings.voiceBarge;
      remember.checked = settings.rememberKey;
      // The saved key is never put back into the page: only whether one is set.
      keyInput.value = "";
      keyInput.placeholder = hasKey ? "Key saved — paste a new one to replace it" : "sk-…";
      $("#key-clear").hidden = !hasKey;
      $("#access-row").hidden = !accessCodeNeeded;
      access.value = "";
      access.placeholder = accessCode ? "Access code saved" : "Access code (no key needed)";
      $("#history-server-group").hidden = !storage;
      serverHistory.checked = settings.serverHistory;
      listenWith.value = settings.listenWith;
      $("#listen-row").hidden = !listenChoices;
      speakWith.value = settings.speakWith || "auto";
      $("#speak-row").hidden = !speakChoices;
      voice.value = settings.voice;
      showPause();
      showRate();
    },
    setProviderInfo({ localReady, localLabel, hint: text, about }) {
      const local = settingsForm.querySelector("input[name=provider][value=local]");
      local.disabled = !localReady;
      local.nextElementSibling.textContent = localLabel || "Offline model";
      $("#provider-hint").textContent = text;
      $("#about").textContent = about;
    },
    setVoices(voices, selected) {
      const keep = selected ?? voice.value;
      voice.replaceChildren(el("option", null, "System default"));
      voice.firstChild.value = "";
      for (const v of voices) {
        const option = el("option", null, `${v.name} (${v.lang})`);
        option.value = v.voiceURI;
        voice.append(option);
      }
      voice.value = keep;
    },
    openSettings,

    renderHistory(items, currentId) {
      historyList.replaceChildren();
      $("#history-empty").hidden = items.length > 0;
      $("#delete-all").hidden = items.length === 0;
      for (const item of items) {
        const li = el("li");
        if (item.id === currentId) li.setAttribute("aria-current", "true");
        const open = el("button", "open");
        open.type = "button";
        const when = new Date(item.updatedAt).toLocaleString(undefined,
          { dateStyle: "medium", timeStyle: "short" });
        open.append(el("strong", null, item.title || "Untitled"),
          el("small", null, `${when} · ${item.remote ? "from another device" : `${item.turns} turns`}`));
        open.addEventListener("click", () => {
          sheets.history.close();
          on("openConversation")(item.id);
        });
        const remove = el("button", "delete");
        remove.type = "button";
        remove.setAttribute("aria-label", `Delete “${item.title || "Untitled"}”`);
        remove.append(el("span", null, "✕"));
        remove.addEventListener("click", () => on("deleteConversation")(item.id));
        li.append(open, remove);
        historyList.append(li);
      }
    },

    openBrief() {
      briefText.replaceChildren(el("p", "pending", "Writing your brief…"));
      $("#brief-actions").hidden = true;
      if (!sheets.brief.open) sheets.brief.showModal();
    },
    setBrief(markdown, done) {
      renderMarkdown(briefText, markdown);
      $("#brief-actions").hidden = !done;
    },
    briefError(message) {
      briefText.replaceChildren(el("p", null, message));
    },

    /** Offer a file for download. */
    download(name, type, content) {
      const url = URL.createObjectURL(new Blob([content], { type }));
      const link = el("a");
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
    async copy(text) {
      await navigator.clipboard.writeText(text);
    },
    async share(title, text) {
      await navigator.share({ title, text });
    },
  };
}
