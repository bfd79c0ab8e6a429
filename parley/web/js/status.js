// What the status line says in each phase of a turn or a call, and what an error offers.
// One place, so the step-by-step loop and realtime calls speak alike.

export const PHASE_STATUS = {
  idle: "",
  connecting: "Connecting to OpenAI…",
  listening: "Listening — pause when you're done",
  callListening: "Listening — just talk",
  thinking: "Thinking…",
  speaking: "Speaking — tap to interrupt",
};

// Errors the person fixes in Settings rather than by trying again.
const NEEDS_SETTINGS = ["invalid_api_key", "api_key_required", "access_code_required",
  "upstream_rate_limited"];

/** What the button on an error row offers: Settings for a key problem, else `again`. */
export function errorAction(openSettings, code, again) {
  return NEEDS_SETTINGS.includes(code) ? { label: "Open Settings", run: openSettings } : again;
}
