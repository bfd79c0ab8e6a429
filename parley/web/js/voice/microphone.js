// Opening the microphone, for the recorder and for realtime calls, with words for each
// way it can fail.

// WebKit turns echo cancellation on by default; other engines are asked explicitly, so the
// phone's own speaker is not heard back.
const CONSTRAINTS = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } };

/** The microphone's stream; rejects with {code, message} a person can act on. */
export async function openMicrophone(retry = "tap again") {
  try {
    return await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  } catch (err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      throw { code: "mic_denied", message: `Parley can't use the microphone. Allow it for this site in your browser's settings, then ${retry}.` };
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      throw { code: "no_mic", message: `No microphone was found. Connect one, then ${retry}.` };
    }
    throw { code: "mic_busy", message: `Another app is using the microphone. Close it, then ${retry}.` };
  }
}
