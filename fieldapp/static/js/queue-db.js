// The IndexedDB database of queued form posts, shared by offline.js (a page module, which imports this
// file) and sw.js (the service worker, which loads it with importScripts). It is a plain script, not
// an ES module, because a classic service worker cannot import modules, so it sets one global.

(() => {
  const QUEUE_DB = "fieldapp-offline";
  const QUEUE_DB_VERSION = 1;
  const QUEUE_STORE = "posts";
  const META_STORE = "meta";

  function requestResult(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function openQueue() {
    const opening = indexedDB.open(QUEUE_DB, QUEUE_DB_VERSION);
    opening.onupgradeneeded = () => {
      opening.result.createObjectStore(QUEUE_STORE, { keyPath: "id", autoIncrement: true });
      opening.result.createObjectStore(META_STORE);
    };
    return requestResult(opening);
  }

  function transactionDone(transaction) {
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  globalThis.fieldappQueue = { QUEUE_STORE, META_STORE, openQueue, requestResult, transactionDone };
})();
