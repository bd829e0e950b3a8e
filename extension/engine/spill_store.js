// A long batch's heavy bytes off the engine's memory: the extension's own IndexedDB keeps
// them under a key (Blobs there live in files, and one read back is backed by its file, not
// by memory). Only the batch uses it, and only for its own batch, so nothing of a user's images
// stays on disk past its batch: when the engine starts, a database an earlier one left (it
// crashed, the browser closed mid-batch) is deleted; the batch's Clear wipes the store. The
// database is opened only when a batch first spills: most engines never touch it.

import { committed, inTransaction, openDatabase, requested } from '../lib/idb.js';

export const DB_NAME = 'backgrone-spill';
const STORE = 'bytes';

/**
 * Deletes database `name` if it exists (one cheap question when it does not). Resolves once it
 * is gone, or once the deletion waits on another connection: an open of it queues behind.
 * @param {string} name
 */
async function deleteLeftover(name) {
  try {
    if (!(await indexedDB.databases()).some((db) => db.name === name)) return;
  } catch {
    // The browser can't list its databases: delete it whether or not it is there.
  }
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve(undefined);
  });
}

/** The store, opened empty (a leftover a deletion could not remove is wiped here). */
async function openEmpty(name) {
  const db = await openDatabase(name, 1, (created) => created.createObjectStore(STORE));
  const tx = db.transaction(STORE, 'readwrite');
  tx.objectStore(STORE).clear();
  await committed(tx);
  return db;
}

/**
 * The store. An earlier engine's leftover is deleted at once; the database opens (empty) at the
 * first put, and every call waits for that. A store that could not open fails every call (the
 * batch then keeps its bytes in memory). Before any put, reads find nothing and wipes have nothing to do.
 * @param {{name?: string}} [where]
 */
export function createSpillStore({ name = DB_NAME } = {}) {
  const cleaned = deleteLeftover(name);
  /** @type {Promise<IDBDatabase> | null} */
  let ready = null;

  /** Run `work` on the store in one transaction; resolves with its request's result once committed. */
  async function within(mode, work) {
    ready ??= cleaned.then(() => openEmpty(name));
    return inTransaction(await ready, STORE, mode, (tx) => requested(work(tx.objectStore(STORE))));
  }
  /** `work` once the store is open; `none` before (nothing was put: nothing to read or remove). */
  const ifOpen = (none, mode, work) => (ready ? within(mode, work) : cleaned.then(() => none));

  return {
    /** Keep `value` (Blobs in it are written out) under `key`, replacing what was there. */
    put: (key, value) => within('readwrite', (s) => s.put(value, key)).then(() => undefined),
    /** What `key` holds, or undefined. */
    get: (key) => ifOpen(undefined, 'readonly', (s) => s.get(key)),
    /** `key` goes (nothing when it was not there). */
    drop: (key) => ifOpen(undefined, 'readwrite', (s) => s.delete(key)).then(() => undefined),
    /** Everything goes. */
    wipe: () => ifOpen(undefined, 'readwrite', (s) => s.clear()).then(() => undefined),
    /** How many keys are kept (tests). */
    count: () => ifOpen(0, 'readonly', (s) => s.count()),
  };
}
