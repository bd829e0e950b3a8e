// A long batch's heavy bytes off the engine's memory: the extension's own IndexedDB keeps
// them under a key (Blobs there live in files, and one read back is backed by its file, not
// by memory). Only the batch uses it, and only for its own batch: the engine wipes it when
// it starts (what a crash or a closed browser left) and when the batch is cleared, so
// nothing of a user's images stays on disk past its batch.

import { committed, inTransaction, openDatabase, requested } from '../lib/idb.js';

export const DB_NAME = 'backgrone-spill';
const STORE = 'bytes';

const open = (name) => openDatabase(name, 1, (db) => db.createObjectStore(STORE));

/**
 * The store, wiped as it opens. Every call waits for that; a store that could not open
 * fails every call (the batch then keeps its bytes in memory).
 * @param {{name?: string}} [where]
 */
export function createSpillStore({ name = DB_NAME } = {}) {
  /** @type {Promise<IDBDatabase>} */
  const ready = open(name).then(async (db) => {
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).clear();
    await committed(tx);
    return db;
  });
  ready.catch(() => {}); // each call reports it

  /** Run `work` on the store in one transaction; resolves with its request's result once committed. */
  async function within(mode, work) {
    return inTransaction(await ready, STORE, mode, (tx) => requested(work(tx.objectStore(STORE))));
  }

  return {
    /** Keep `value` (Blobs in it are written out) under `key`, replacing what was there. */
    put: (key, value) => within('readwrite', (s) => s.put(value, key)).then(() => undefined),
    /** What `key` holds, or undefined. */
    get: (key) => within('readonly', (s) => s.get(key)),
    /** `key` goes (nothing when it was not there). */
    drop: (key) => within('readwrite', (s) => s.delete(key)).then(() => undefined),
    /** Everything goes. */
    wipe: () => within('readwrite', (s) => s.clear()).then(() => undefined),
    /** How many keys are kept (tests). */
    count: () => within('readonly', (s) => s.count()),
  };
}
