// Offline shell: the app's own files are cached so Parley opens without a connection.
// API calls are never cached. Modules loaded on demand (server speech, realtime calls:
// useless offline anyway) are cached the first time they are fetched.

const CACHE = "parley-shell-v6";
const SHELL = [
  "./", "index.html", "styles.css", "manifest.webmanifest", "icons/icon.svg",
  "js/app.js", "js/api.js", "js/store.js", "js/prefs.js", "js/server.js", "js/status.js",
  "js/dom.js", "js/view.js", "js/markdown.js", "js/exporter.js", "js/thread.js", "js/talk.js",
  "js/call.js", "js/history.js", "js/attachments.js", "js/projects.js", "js/timing.js",
  "js/sheets/settings.js", "js/sheets/history.js", "js/sheets/export.js",
  "js/voice/engines.js", "js/voice/capabilities.js", "js/voice/listener.js",
  "js/voice/recognizer.js", "js/voice/speaker.js", "js/voice/turn-end.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin
      || url.pathname.startsWith("/api/")) return;
  // Network first, so a deploy shows up at once; the cache answers when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request).then((hit) => hit || caches.match("index.html"))),
  );
});
