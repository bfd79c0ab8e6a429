// What this Parley server offers (its health answer), once it has answered.

import * as api from "./api.js";

export function createServer(prefs) {
  let health = null;
  return {
    get health() { return health; },
    async load() {
      health = await api.health();
      return health;
    },
    /** OpenAI can answer: the person's key, or the operator's that they may use. */
    openaiReady() {
      const openai = health?.providers?.openai || {};
      return prefs.hasKey
        || Boolean(openai.operator_key && (!openai.access_code_required || prefs.accessCode));
    },
  };
}
