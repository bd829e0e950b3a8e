// Python's full snapshot (py_restore.js's bytes; python_core.js makes and restores it), kept in
// the extension's IndexedDB: one record under the Pyodide version and the core's hash that made
// it, with the bytes' SHA-256. IndexedDB and WebCrypto work in a worker, where the engine's
// Python runs. The bytes are checked before Pyodide sees them: the digest refuses a damaged or
// truncated record, a record of another version or core is foreign; either is dropped. They are
// kept as they are (about 57 MB): gunzip cost about 0.5 s of each wake, the digest 0.05 s.
import { inTransaction, openDatabase, requested } from '../lib/idb.js';
import { openFull } from './py_restore.js';

const DB = 'backgrone-python';
const STORE = 'snapshots';
const KEY = 'full';
const OLD_KEYS = ['baseline']; // the gzip'd heap-only snapshot of earlier versions
// Pyodide's layout: a header rounded to 16 bytes, then the heap (whole 64 KiB wasm pages).
const MAGIC_BYTES = 4;
const PAGE = 65536;

/** The SHA-256 of `bytes`, in hex. */
export async function digest(bytes) {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Whether `bytes` has the shape of a Pyodide snapshot: a 16-byte-aligned header whose first
 * word says how long it is, then whole wasm pages. (Pyodide checks the magic and build id.)
 * @param {Uint8Array} bytes
 */
export function plausibleSnapshot(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length < 64 || bytes.byteOffset % 4) return false;
  const header = new DataView(bytes.buffer, bytes.byteOffset, 16).getUint32(MAGIC_BYTES, true);
  return header > 0 && header % 16 === 0 && header < bytes.length && (bytes.length - header) % PAGE === 0;
}

/**
 * The stored record's bytes if it is ours and whole, else null (and the caller drops it).
 * @param {any} record {version, key, buildId, sha256, data: ArrayBuffer}
 * @param {string} version Pyodide's version now
 * @param {string} key the core's hash now
 */
export async function unpack(record, version, key) {
  if (!record || record.version !== version || record.key !== key || !(record.data instanceof ArrayBuffer)) return null;
  const bytes = new Uint8Array(record.data);
  if ((await digest(bytes)) !== record.sha256) return null;
  const full = openFull(bytes);
  return full && plausibleSnapshot(full.heap) ? bytes : null;
}

/** One request on the store, the database closed after it (a write: once it is committed). */
async function withStore(mode, work) {
  const db = await openDatabase(DB, 1, (created) => created.createObjectStore(STORE));
  try {
    return await inTransaction(db, STORE, mode, (tx) => requested(work(tx.objectStore(STORE))));
  } finally {
    db.close();
  }
}

/** The stored snapshot for Pyodide `version` and core `key`, or null (a foreign or damaged record is dropped). */
export async function read(version, key) {
  const record = await withStore('readonly', (store) => store.get(KEY));
  if (!record) return null;
  const bytes = await unpack(record, version, key);
  if (!bytes) await drop();
  return bytes;
}

/** Stores `bytes` (a snapshot Pyodide `version`, build `buildId`, made of core `key`), replacing any. */
export async function write(bytes, version, key, buildId) {
  const data = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  const record = { version, key, buildId, size: bytes.length, sha256: await digest(bytes), data, at: Date.now() };
  await withStore('readwrite', (store) => {
    for (const old of OLD_KEYS) store.delete(old);
    return store.put(record, KEY);
  });
}

export const drop = () =>
  withStore('readwrite', (store) => {
    for (const old of OLD_KEYS) store.delete(old);
    return store.delete(KEY);
  }).then(() => {});

/** Whether a snapshot is stored, without reading its bytes (the options page's storage line). */
export const stored = () => withStore('readonly', (store) => store.count(KEY)).then((n) => n > 0);

/** The stored record as it is (tests and diagnostics): {version, key, buildId, size, sha256, data, at} or undefined. */
export const record = () => withStore('readonly', (store) => store.get(KEY));
