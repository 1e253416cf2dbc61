// Service worker of the web authenticator: keeps the app shell for offline start. It never
// touches /device/v1 (signed, live calls) or anything outside /authenticator/.
/* global self, caches, fetch */

const CACHE = 'airlock-authenticator-v1';
const SHELL = [
  './',
  'index.html',
  'app.js',
  'style.css',
  'manifest.webmanifest',
  'icon.svg',
  'icon-192.png',
  'icon-512.png',
];

self.addEventListener('install', (/** @type {any} */ event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener('activate', (/** @type {any} */ event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))),
      ),
  );
});

self.addEventListener('fetch', (/** @type {any} */ event) => {
  /** @type {Request} */
  const request = event.request;
  const url = new URL(request.url);
  const scope = new URL('./', self.location.href);
  // Only GETs of the app shell itself; the browser handles everything else (the device API).
  if (request.method !== 'GET' || url.origin !== scope.origin) return;
  if (!url.pathname.startsWith(scope.pathname)) return;
  // Network first so a service update reaches the page; the cache only when offline.
  event.respondWith(
    fetch(request)
      .then((response) => {
        // Never store a URL with a query: /authenticator/?code=… carries an activation code.
        if (response.ok && url.search === '') {
          const copy = response.clone();
          void caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() =>
        caches
          .match(request, { ignoreSearch: true })
          .then((cached) => cached ?? Promise.reject(new Error('offline'))),
      ),
  );
});
