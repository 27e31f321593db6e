// Offline form posts: every POST gets an idempotency key, and a post made while the site's Wi-Fi is
// down, or that fails with a network error, waits in IndexedDB until the server can be reached again.
//
// Queued posts are sent again in the order they were made: on the `online` event, on page load and
// every REPLAY_INTERVAL_MS, because iOS has no Background Sync. A post leaves the queue on a 2xx or 3xx
// response. The server runs a key's view only once (fieldapp/idempotency.py), so sending one post
// twice is safe. The texts come from data attributes of #offline-banner, translated by the server.
//
// A page whose own posts have all been sent reloads, so it shows what the server stored instead of the
// form as it was typed, unless someone has typed on it since. The offline page has no session to send
// the queue with: it checks whether the server responds again and then returns to the page it replaced.

import "./queue-db.js";

const { QUEUE_STORE, META_STORE, openQueue, requestResult, transactionDone } = globalThis.fieldappQueue;
const KEY_HEADER = "Idempotency-Key";
const KEY_FIELD = "idempotency_key";
const CSRF_FIELD = "csrf_token";
const REPLAY_INTERVAL_MS = 20_000;
const OFFLINE_PATH = "/offline"; // sw.js redirects a plain post that failed on the way here.
// The server returns 409 while the first request with a key is still running.
const RETRY_LATER = new Set([408, 409, 425, 429]);

const banner = document.getElementById("offline-banner");
let networkDown = false;
let replaying = null;
let replayAgain = false;
// Keys of the posts queued from this page, and whether anyone has typed on the page since the last one.
const queuedHere = new Set();
let typedSinceQueued = false;

function newKey() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  // Pages on plain HTTP over the LAN are not a secure context, so randomUUID is missing there.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- IndexedDB -------------------------------------------------------------------------------

async function withStore(name, mode, work) {
  const db = await openQueue();
  try {
    const transaction = db.transaction(name, mode);
    const result = await work(transaction.objectStore(name));
    await transactionDone(transaction);
    return result;
  } finally {
    db.close();
  }
}

function allPosts() {
  // Auto-increment ids keep the order in which the posts were made.
  return withStore(QUEUE_STORE, "readonly", (store) => requestResult(store.getAll()));
}

function addPost(record) {
  return withStore(QUEUE_STORE, "readwrite", (store) => requestResult(store.add(record)));
}

function deletePost(id) {
  return withStore(QUEUE_STORE, "readwrite", (store) => requestResult(store.delete(id)));
}

function putPost(record) {
  return withStore(QUEUE_STORE, "readwrite", (store) => requestResult(store.put(record)));
}

function rememberStaff(staff) {
  // sw.js reads this to tag the plain form posts that it queues.
  return withStore(META_STORE, "readwrite", (store) => requestResult(store.put(staff, "staff")));
}

// --- Queueing --------------------------------------------------------------------------------

function currentStaff() {
  return banner?.dataset.staff || null;
}

function currentCsrfToken() {
  return banner?.dataset.csrf || null;
}

async function queuePost({ key, url, entries, multipart, htmx }) {
  const token = entries.find(([name]) => name === CSRF_FIELD)?.[1] ?? currentCsrfToken();
  await addPost({
    key,
    url: new URL(url, location.href).href,
    entries,
    multipart,
    htmx,
    csrfToken: token,
    staff: currentStaff(),
    queuedAt: new Date().toISOString(),
  });
  queuedHere.add(key);
  typedSinceQueued = false;
  await showBanner();
}

function isNetworkError(error) {
  // fetch rejects with a TypeError when the request never got a response.
  return error instanceof TypeError;
}

// htmx 4 fires htmx:config:request with detail.ctx; ctx.request.headers is a plain object and
// ctx.fetch, when set, replaces window.fetch for this request.
document.addEventListener("htmx:config:request", (event) => {
  const ctx = event.detail.ctx;
  if (ctx.request.method !== "POST") {
    return;
  }
  const key = newKey();
  ctx.request.headers[KEY_HEADER] = key;
  ctx.fetch = async (url, init) => {
    const queue = () => queuePost({
      key,
      url,
      entries: [...init.body.entries()],
      multipart: init.body instanceof FormData,
      htmx: true,
    });
    if (!navigator.onLine) {
      networkDown = true;
      await queue();
      // htmx does not swap a 204, so the page stays as it was.
      return new Response(null, { status: 204 });
    }
    try {
      const response = await window.fetch(url, init);
      networkDown = false;
      return response;
    } catch (error) {
      if (!isNetworkError(error) || init.signal?.aborted) {
        throw error;
      }
      networkDown = true;
      await queue();
      return new Response(null, { status: 204 });
    }
  };
});

// Plain forms: add the key as a hidden field, and queue the post instead when the browser is offline.
// A plain post that fails on the way is queued by sw.js. htmx has already called preventDefault on the
// forms it sends. A form marked data-no-queue (a file download at the laptop) is always sent at once.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const submitter = event.submitter;
  const method = (submitter?.getAttribute("formmethod") || form.getAttribute("method") || "get").toLowerCase();
  if (event.defaultPrevented || method !== "post" || form.hasAttribute("data-no-queue")) {
    return;
  }

  const key = newKey();
  let field = form.querySelector(`input[name="${KEY_FIELD}"]`);
  if (!field) {
    field = document.createElement("input");
    field.type = "hidden";
    field.name = KEY_FIELD;
    form.append(field);
  }
  field.value = key;
  if (navigator.onLine) {
    return;
  }

  event.preventDefault();
  networkDown = true;
  // Read the attributes, not form.action and form.enctype: a control named "action", like the station
  // desk's buttons, shadows those properties. A form without an action posts to the page's own address.
  const enctype = submitter?.getAttribute("formenctype") || form.getAttribute("enctype");
  queuePost({
    key,
    url: submitter?.getAttribute("formaction") || form.getAttribute("action") || location.href,
    entries: [...formData(form, submitter).entries()],
    multipart: enctype === "multipart/form-data",
    htmx: false,
  });
});

function formData(form, submitter) {
  try {
    return new FormData(form, submitter);
  } catch {
    // Browsers before Chrome 112 and Safari 16.4 take no submitter argument.
    const data = new FormData(form);
    if (submitter?.name) {
      data.append(submitter.name, submitter.value);
    }
    return data;
  }
}

// --- Replay ----------------------------------------------------------------------------------

function requestBody(record, token) {
  const entries = record.entries.map(([name, value]) => [name, name === CSRF_FIELD && token ? token : value]);
  if (record.multipart) {
    const body = new FormData();
    for (const [name, value] of entries) {
      body.append(name, value);
    }
    return body;
  }
  return new URLSearchParams(entries);
}

// Return "done", "retry" (stop and keep it) or "rejected" (keep it out of the replays).
async function send(record) {
  // The page's own token is valid for the current session; a stored one is invalid once staff sign in again.
  const token = currentCsrfToken() || record.csrfToken;
  let response;
  try {
    response = await fetch(record.url, {
      method: "POST",
      body: requestBody(record, token),
      headers: { [KEY_HEADER]: record.key, "X-CSRFToken": token },
      credentials: "same-origin",
      redirect: "follow",
    });
  } catch (error) {
    if (isNetworkError(error)) {
      networkDown = true;
      return "retry";
    }
    throw error;
  }
  networkDown = false;
  if (response.redirected && new URL(response.url).pathname === "/login") {
    return "retry"; // The session has ended: keep the post until someone signs in.
  }
  if (response.ok) {
    return "done";
  }
  if (RETRY_LATER.has(response.status) || response.status >= 500) {
    return "retry";
  }
  return "rejected";
}

// Send the queued posts in order. Return true when one made from this page, or to this page's own address,
// was sent.
async function replayQueue() {
  const staff = currentStaff();
  if (!staff) {
    return false; // The sign-in and offline pages have no session to send the posts with.
  }
  let sentForThisPage = false;
  for (const record of await allPosts()) {
    if (record.rejected) {
      continue;
    }
    if (record.staff && record.staff !== staff) {
      break; // Made by someone else on this phone: it waits for them, and so do the posts after it.
    }
    const outcome = await send(record);
    if (outcome === "retry") {
      break;
    }
    if (outcome === "done") {
      await deletePost(record.id);
      sentForThisPage ||= queuedHere.has(record.key) || record.url === location.href;
    } else {
      console.warn(`fieldapp: the server rejected a queued post to ${record.url}`);
      await putPost({ ...record, rejected: true });
    }
  }
  return sentForThisPage;
}

function replay() {
  // One replay at a time in this page, and with Web Locks one across every open page. A replay asked for
  // while one runs, say on an `online` event while the last attempt is failing, runs right after it.
  if (replaying) {
    replayAgain = true;
    return replaying;
  }
  replaying = (async () => {
    let reload = false;
    try {
      const sentForThisPage = navigator.locks
        ? await navigator.locks.request("fieldapp-offline-replay", replayQueue)
        : await replayQueue();
      reload = (await ownPostsSent(sentForThisPage)) && !typedSinceQueued;
    } catch (error) {
      console.error("fieldapp: replaying queued posts failed", error);
    } finally {
      replaying = null;
    }
    if (reload) {
      // The banner keeps its count until the new page replaces it, so the form as typed is never shown
      // under an empty banner as if it were the stored result.
      location.reload();
      return;
    }
    await showBanner();
    if (replayAgain) {
      replayAgain = false;
      replay();
    }
  })();
  return replaying;
}

// Another open page may have sent this page's posts, so look at the queue rather than only at this replay.
async function ownPostsSent(sentForThisPage) {
  if (sentForThisPage) {
    return true;
  }
  if (queuedHere.size === 0) {
    return false;
  }
  const waiting = new Set((await allPosts()).map((record) => record.key));
  return [...queuedHere].every((key) => !waiting.has(key));
}

// --- Offline page ----------------------------------------------------------------------------

async function returnWhenReachable() {
  try {
    await fetch(OFFLINE_PATH, { method: "HEAD", cache: "no-store" });
  } catch (error) {
    if (!isNetworkError(error)) {
      throw error;
    }
    networkDown = true;
    await showBanner();
    return;
  }
  if (location.pathname !== OFFLINE_PATH) {
    location.reload(); // sw.js showed the offline page in place of this address.
  } else if (history.length > 1) {
    history.back(); // sw.js redirected a failed post here: back to the page that made it.
  } else {
    location.replace("/");
  }
}

// --- Banner ----------------------------------------------------------------------------------

// A page's elements marked data-queued-note, such as the entry form's note beside its buttons, show while
// a post made from this page waits in the queue. A page whose posts were all sent usually reloads instead.
function showQueuedNotes(posts) {
  const waitingHere = posts.some((record) => !record.rejected && queuedHere.has(record.key));
  for (const note of document.querySelectorAll("[data-queued-note]")) {
    note.hidden = !waitingHere;
  }
}

async function showBanner() {
  if (!banner) {
    return;
  }
  const posts = await allPosts();
  showQueuedNotes(posts);
  const waiting = posts.filter((record) => !record.rejected).length;
  const rejected = posts.length - waiting;
  const offline = !navigator.onLine || networkDown;

  const status = banner.querySelector(".offline-status");
  status.textContent = (offline ? banner.dataset.offline : banner.dataset.waiting).replace("{count}", waiting);
  status.hidden = !offline && waiting === 0;
  const rejectedText = banner.querySelector(".offline-rejected");
  rejectedText.textContent = banner.dataset.rejected.replace("{count}", rejected);
  rejectedText.hidden = rejected === 0;
  banner.querySelector(".offline-dismiss").hidden = rejected === 0;
  banner.dataset.waitingCount = String(waiting);
  banner.hidden = status.hidden && rejected === 0;
}

async function dismissRejected() {
  for (const record of await allPosts()) {
    if (record.rejected) {
      await deletePost(record.id);
    }
  }
  await showBanner();
}

// --- Start -----------------------------------------------------------------------------------

if (banner) {
  // The cached offline page has no session: it only shows the queue and waits for the server.
  const offlinePage = banner.dataset.page === "offline";
  const retry = offlinePage ? returnWhenReachable : replay;
  banner.querySelector(".offline-dismiss").addEventListener("click", dismissRejected);
  document.addEventListener("input", () => {
    typedSinceQueued = true;
  });
  window.addEventListener("online", () => {
    networkDown = false;
    retry();
  });
  window.addEventListener("offline", () => {
    networkDown = true;
    showBanner();
  });
  setInterval(retry, REPLAY_INTERVAL_MS);
  if (!offlinePage) {
    rememberStaff(currentStaff());
    replay();
  } else {
    // sw.js shows this page because a request failed on the way. In place of a page that did not load,
    // it waits for the next check, so a page that keeps failing is not reloaded in a tight loop.
    networkDown = true;
    showBanner();
    if (location.pathname === OFFLINE_PATH) {
      returnWhenReachable();
    }
  }
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
    console.warn("fieldapp: the service worker could not be registered", error);
  });
}
