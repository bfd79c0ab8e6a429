// The settings sheet: conversation style, who answers, the key, talking and the voice.

import { $, el, events, sheet } from "../dom.js";
import { voiceKey } from "../voice/speaker.js";

export function createSettingsSheet() {
  const { on, emit } = events();
  const dialog = sheet($("#settings-sheet"));
  const form = $("#settings-form");
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
  const showPause = () => { $("#pause-out").textContent = `${Number(pause.value).toFixed(1)} s`; };
  const showRate = () => { $("#rate-out").textContent = `${Number(rate.value).toFixed(2)}×`; };
  const read = () => ({
    style: form.elements.style.value,
    realtimeVoice: realtimeVoice.value,
    provider: form.elements.provider.value,
    turns: form.elements.turns.value,
    pauseSeconds: Number(pause.value),
    rate: Number(rate.value),
    voice: voice.value,
    voiceBarge: $("#voice-barge").value,
    listenWith: listenWith.value,
    speakWith: speakWith.value,
    rememberKey: remember.checked,
    serverHistory: serverHistory.checked,
  });
  form.addEventListener("change", (event) => {
    if (event.target === keyInput || event.target === access) return;
    emit("settings")(read());
  });
  pause.addEventListener("input", showPause);
  rate.addEventListener("input", showRate);
  // The field is only ever a place to paste a new key: empty means "no change".
  const takeKey = () => {
    const key = keyInput.value.trim();
    if (!key) return;
    keyInput.value = "";
    emit("key")(key, remember.checked);
  };
  keyInput.addEventListener("change", takeKey);
  access.addEventListener("change", () => emit("accessCode")(access.value.trim()));
  $("#key-clear").addEventListener("click", () => {
    keyInput.value = "";
    emit("clearKey")();
  });
  // A pasted key counts even if the person closes the sheet without leaving the field.
  $("#settings-sheet").addEventListener("close", takeKey);

  return {
    on,
    open() {
      emit("open")();
      dialog.open();
    },

    fill(settings, {
      hasKey, accessCodeNeeded, accessCode, storage, listenChoices, speakChoices, realtimeReady,
      realtimeHint,
    }) {
      const realtimeOn = settings.style === "realtime" && realtimeReady;
      form.elements.style.value = realtimeOn ? "realtime" : "cascade";
      form.querySelector("[data-testid=realtime-toggle]").disabled = !realtimeReady;
      $("#style-hint").textContent = realtimeHint;
      realtimeVoice.value = settings.realtimeVoice || "";
      $("#realtime-voice-row").hidden = !realtimeOn;
      form.elements.provider.value = settings.provider;
      form.elements.turns.value = settings.turns;
      pause.value = String(settings.pauseSeconds);
      rate.value = String(settings.rate);
      // Before it was a choice of three, it was a checkbox: on, or (unticked) automatic.
      $("#voice-barge").value = settings.voiceBarge === true ? "on"
        : ["on", "off"].includes(settings.voiceBarge) ? settings.voiceBarge : "auto";
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

    setProviderInfo({ localReady, localLabel, hint, about }) {
      const local = form.querySelector("input[name=provider][value=local]");
      local.disabled = !localReady;
      local.nextElementSibling.textContent = localLabel || "Offline model";
      $("#provider-hint").textContent = hint;
      $("#about").textContent = about;
    },

    setVoices(voices, selected) {
      const keep = selected ?? voice.value;
      voice.replaceChildren(el("option", null, "System default"));
      voice.firstChild.value = "";
      for (const v of voices) {
        const option = el("option", null, `${v.name} (${v.lang})`);
        option.value = voiceKey(v);
        voice.append(option);
      }
      voice.value = keep;
    },
  };
}
