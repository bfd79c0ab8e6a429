// The person's choices as the running app holds them: settings, their key and the access
// code. Every change is kept on the device at once (store.js); nothing else holds them.

import * as store from "./store.js";

export function createPrefs() {
  let settings = store.loadSettings();
  let apiKey = store.loadKey();
  let accessCode = store.loadAccessCode();

  return {
    get settings() { return settings; },
    get hasKey() { return Boolean(apiKey); },
    get accessCode() { return accessCode; },
    /** What a request needs to be let in: the key, or the operator's access code. */
    auth() { return { apiKey: apiKey || null, accessCode: accessCode || null }; },

    update(changes) {
      const rememberChanged = "rememberKey" in changes
        && changes.rememberKey !== settings.rememberKey;
      settings = { ...settings, ...changes };
      store.saveSettings(settings);
      if (rememberChanged && apiKey) store.saveKey(apiKey, settings.rememberKey);
      return settings;
    },
    setKey(key, remember) {
      apiKey = key;
      store.saveKey(apiKey, remember);
    },
    setAccessCode(code) {
      accessCode = code;
      store.saveAccessCode(code);
    },
  };
}
