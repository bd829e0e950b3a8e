// IndexedDB's callbacks as promises, for the extension's stores (models, background picture,
// Python snapshot, batch spill): opening a database, one request, one transaction's end.
// Each store keeps its own names, versions and when it closes its database.

/**
 * Open database `name` at `version`; `upgrade(db, oldVersion)` makes its stores when it is new
 * (or older than `version`).
 * @param {string} name
 * @param {number} version
 * @param {(db: IDBDatabase, oldVersion: number) => void} upgrade
 * @returns {Promise<IDBDatabase>}
 */
export function openDatabase(name, version, upgrade) {
  const request = indexedDB.open(name, version);
  request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
  return requested(request);
}

/**
 * One request's result, as a promise.
 * @template T
 * @param {IDBRequest<T>} request
 * @returns {Promise<T>}
 */
export function requested(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * A transaction's end: resolves once its writes are committed; rejects when a request in it
 * failed or it was aborted.
 * @param {IDBTransaction} tx
 * @returns {Promise<void>}
 */
export function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // On a failed request's error, tx.error is not yet set: the request's is the reason.
    tx.onerror = (event) => reject(tx.error ?? /** @type {IDBRequest} */ (event.target).error);
    tx.onabort = () => reject(tx.error ?? new DOMException('idb-transaction-aborted', 'AbortError')); // a code, never an empty message
  });
}

/**
 * Run `work(tx)` in a new transaction on `db` and resolve with what it gives (awaited) once the
 * transaction is committed. A failed request rejects with its own error.
 * @template T
 * @param {IDBDatabase} db
 * @param {string | string[]} stores
 * @param {IDBTransactionMode} mode
 * @param {(tx: IDBTransaction) => T | PromiseLike<T>} work
 * @returns {Promise<T>}
 */
export async function inTransaction(db, stores, mode, work) {
  const tx = db.transaction(stores, mode);
  const end = committed(tx);
  const [result] = await Promise.all([work(tx), end]);
  return result;
}
