// fieldapp's service worker. The server serves it at /sw.js after a header that defines
// VERSION (a hash of the precached files), PRECACHE_URLS and OFFLINE_URL.
//
// Static files are served from the cache first. Pages always come from the network and are never
// cached, because they show people's names and ID numbers. Without a network, a navigation gets the
// precached offline page. A plain form post that fails with a network error is queued in IndexedDB
// for offline.js to send again (htmx posts and posts made while offline are queued by offline.js).

const CACHE_PREFIX = "fieldapp-static-";
const CACHE_NAME = CACHE_PREFIX + VERSION;
const PRECACHED_PATHS = new Set(PRECACHE_URLS);

// The database of queued posts, shared with offline.js.
importScripts("/static/js/queue-db.js");
const { QUEUE_STORE, META_STORE, openQueue, requestResult, transactionDone } = self.fieldappQueue;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE_NAME)
      .then((cache) => cache.addAll([...PRECACHE_URLS, OFFLINE_URL]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME)
          .map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate" && request.method === "POST") {
    event.respondWith(postOrQueue(request));
  } else if (request.mode === "navigate" && request.method === "GET") {
    event.respondWith(networkOrOfflinePage(request));
  } else if (request.method === "GET" && PRECACHED_PATHS.has(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
  // Everything else, including htmx requests and every other POST, goes to the network untouched.
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE_NAME);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkOrOfflinePage(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(OFFLINE_URL);
    if (offline) {
      return offline;
    }
    throw error;
  }
}

async function postOrQueue(request) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (error) {
    if (!(error instanceof TypeError)) {
      throw error;
    }
    await queueForm(copy);
    // Redirect, so reloading the result shows the offline page instead of posting the form again.
    return Response.redirect(OFFLINE_URL, 303);
  }
}

async function queueForm(request) {
  const entries = [...(await request.formData()).entries()];
  const field = (name) => entries.find(([key]) => key === name)?.[1] ?? null;
  const db = await openQueue();
  const staff = await requestResult(db.transaction(META_STORE).objectStore(META_STORE).get("staff"));
  const record = {
    key: field("idempotency_key") || crypto.randomUUID(),
    url: request.url,
    entries,
    multipart: (request.headers.get("Content-Type") || "").startsWith("multipart/form-data"),
    htmx: false,
    csrfToken: field("csrf_token"),
    staff: staff ?? null,
    queuedAt: new Date().toISOString(),
  };
  const transaction = db.transaction(QUEUE_STORE, "readwrite");
  transaction.objectStore(QUEUE_STORE).add(record);
  await transactionDone(transaction);
  db.close();
}
