// cohortsync's service worker: keeps the app shell (index.html, the app's and the check
// worker's JS and WASM, the CSS) so that after one online visit the app opens, and checks
// files against the snapshot cached in IndexedDB, with the network off.
//
// Pages and assets: network first (a new version is picked up as soon as the server
// answers), the cache when the network fails. /api/ is never cached here: the app keeps
// what it needs (the snapshot) itself.
const CACHE = "cohortsync-shell-v1";

async function shellUrls() {
  const response = await fetch("/index.html", { cache: "no-store" });
  const html = await response.text();
  const urls = new Set(["/", "/index.html", "/worker.js", "/worker_bg.wasm"]);
  for (const match of html.matchAll(/(?:href|src)="(\/[^"]+)"/g)) urls.add(match[1]);
  for (const match of html.matchAll(/['"](\/[^'"]+\.(?:js|wasm|css))['"]/g)) urls.add(match[1]);
  return [...urls];
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(await shellUrls());
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok) cache.put(request, response.clone());
        return response;
      } catch (offline) {
        const cached = await cache.match(request);
        if (cached) return cached;
        // A client-side route (/changesets/7…) opens the app shell.
        if (request.mode === "navigate") {
          const shell = await cache.match("/index.html");
          if (shell) return shell;
        }
        throw offline;
      }
    })(),
  );
});
