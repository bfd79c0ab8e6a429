// What this browser can really do with speech. The constructor alone is not proof:
// several browsers expose SpeechRecognition and then never deliver a word.

function standalone() {
  return (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches)
    || window.navigator.standalone === true;
}

const ua = () => navigator.userAgent || "";
const isIOS = () => /iPhone|iPad|iPod/.test(ua())
  || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);

/** Can the Web Speech recognizer be trusted here? {ok, reason} */
export function recognitionSupport() {
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (!Recognition) {
    if (/Firefox\//.test(ua())) {
      return { ok: false, reason: "Firefox can't turn speech into text yet." };
    }
    return { ok: false, reason: "This browser can't turn speech into text." };
  }
  // iOS home-screen apps and SFSafariViewController expose the API but never start it.
  if (isIOS() && standalone()) {
    return { ok: false, reason: "Speech recognition doesn't run in the iPhone home-screen app." };
  }
  // Chrome, Firefox and Edge on iOS, and in-app browsers, report support and then fail.
  if (/CriOS|FxiOS|EdgiOS|FBAN|FBAV|Instagram|LinkedInApp|Line\/|GSA\//.test(ua())) {
    return { ok: false, reason: "This in-app browser can't listen. Open Parley in Safari." };
  }
  // Brave blocks the Google speech service while still exposing the constructor.
  if (navigator.brave) {
    return { ok: false, reason: "Brave blocks speech recognition." };
  }
  return { ok: true, reason: null };
}

/** Can this browser speak? */
export function synthesisSupport() {
  return "speechSynthesis" in window && "SpeechSynthesisUtterance" in window;
}

/** Can this browser make a realtime (WebRTC) call? {ok, reason} */
export function realtimeSupport() {
  if (!window.RTCPeerConnection || !navigator.mediaDevices?.getUserMedia) {
    return { ok: false, reason: "This browser can't make realtime calls. Use Step by step." };
  }
  return { ok: true, reason: null };
}

// Headphones are the one place talking over Parley is safe on any path: on speakers the
// recognizer hears Parley's own voice. Device labels are readable once the microphone is
// allowed; until then (or where the browser hides them) the answer is no.
const HEADPHONES = /headphone|headset|earbud|earphone|airpods|buds|bluetooth|hands-free/i;
let headphonesNow = false;

/** Keep `headphones()` up to date as devices come and go. */
export function watchHeadphones() {
  const devices = navigator.mediaDevices;
  if (!devices?.enumerateDevices) return;
  const look = () => devices.enumerateDevices().then((list) => {
    headphonesNow = list.some((d) => d.kind === "audiooutput" && HEADPHONES.test(d.label));
  }).catch(() => {});
  look();
  devices.addEventListener?.("devicechange", look);
}

/** Whether the sound most likely goes to headphones. */
export function headphones() {
  return headphonesNow;
}
