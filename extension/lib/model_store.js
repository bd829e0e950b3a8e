// Model weights in the extension's IndexedDB, downloaded chunk by chunk.
//
// Each chunk is verified against the catalogue's sha256 before it is stored,
// so an interrupted download resumes from the chunks already kept; the
// assembled file is verified once more before the model counts as complete.
// On every load each stored chunk is hashed again: a corrupt entry is dropped
// and fetched again instead of feeding garbage weights to the model.
import './i18n.js';
import './net.js';
import { inTransaction, openDatabase, requested } from './idb.js';
import { modelSourceProblem } from './settings.js';

const { fetchBytes } = globalThis.BackgroneNet;
const msg = globalThis.BackgroneI18n.t; // `t` names transactions here

const DB_NAME = 'backgrone';
const DB_VERSION = 1;
const CHUNKS = 'chunks'; // key [engine, index] -> {sha256, data: ArrayBuffer}
const MODELS = 'models'; // key engine -> {engine, sha256, bytes, completedAt}

let dbPromise = null;

function openDb() {
  dbPromise ??= openDatabase(DB_NAME, DB_VERSION, (db) => {
    if (!db.objectStoreNames.contains(CHUNKS)) db.createObjectStore(CHUNKS);
    if (!db.objectStoreNames.contains(MODELS)) db.createObjectStore(MODELS);
  }).then(
    (db) => {
      db.onversionchange = () => db.close();
      return db;
    },
    (err) => {
      dbPromise = null;
      throw err;
    },
  );
  return dbPromise;
}

/** `fn(t)` in a transaction over `stores`; its result once the transaction is committed. */
const tx = async (stores, mode, fn) => inTransaction(await openDb(), stores, mode, fn);

async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

const range = (engine) => IDBKeyRange.bound([engine, 0], [engine, Infinity]);

/** Stored chunks of an engine, size-checked only: Map index -> ArrayBuffer. */
async function readChunks(spec) {
  const [keys, values] = await tx([CHUNKS], 'readonly', async (t) => {
    const store = t.objectStore(CHUNKS);
    return Promise.all([requested(store.getAllKeys(range(spec.name))), requested(store.getAll(range(spec.name)))]);
  });
  const chunks = new Map();
  const wrong = [];
  keys.forEach((key, i) => {
    const expected = spec.source.chunks[key[1]];
    const data = values[i]?.data;
    if (expected && data instanceof ArrayBuffer && data.byteLength === expected.end - expected.start) {
      chunks.set(key[1], data);
    } else {
      wrong.push(key[1]);
    }
  });
  if (wrong.length) await dropChunks(spec, wrong);
  return chunks;
}

async function dropChunks(spec, indices) {
  await tx([CHUNKS, MODELS], 'readwrite', async (t) => {
    for (const i of indices) t.objectStore(CHUNKS).delete([spec.name, i]);
    t.objectStore(MODELS).delete(spec.name);
  });
}

/** Hash every chunk; drop the corrupt ones (from `chunks` and from IndexedDB). True when all are good. */
async function verifyChunks(spec, chunks) {
  const bad = [];
  await Promise.all(
    Array.from(chunks, async ([i, data]) => {
      if ((await sha256Hex(data)) !== spec.source.chunks[i].sha256) bad.push(i);
    }),
  );
  for (const i of bad) chunks.delete(i);
  if (bad.length) await dropChunks(spec, bad);
  return bad.length === 0;
}

/** {cached: bool, bytes} for an engine, without hashing. */
export async function modelState(spec) {
  const record = await tx([MODELS], 'readonly', (t) => requested(t.objectStore(MODELS).get(spec.name)));
  return { cached: !!record && record.sha256 === spec.sha256, bytes: record ? record.bytes : 0 };
}

/**
 * Delete what is stored for engines the catalogue no longer lists (an engine an earlier
 * version downloaded, e.g. 'small'): otherwise its chunks would hold storage forever.
 * @param {string[]} known the catalogue's engine names
 * @returns {Promise<string[]>} the engines whose data was deleted
 */
export async function pruneModels(known) {
  const stored = await tx([CHUNKS, MODELS], 'readonly', async (t) => {
    const [chunkKeys, modelKeys] = await Promise.all([
      requested(t.objectStore(CHUNKS).getAllKeys()),
      requested(t.objectStore(MODELS).getAllKeys()),
    ]);
    return new Set([...chunkKeys.map((k) => k[0]), ...modelKeys]);
  });
  const orphans = [...stored].filter((engine) => typeof engine === 'string' && !known.includes(engine));
  for (const engine of orphans) await deleteModel(engine);
  return orphans;
}

export async function deleteModel(engine) {
  await tx([CHUNKS, MODELS], 'readwrite', async (t) => {
    t.objectStore(CHUNKS).delete(range(engine));
    t.objectStore(MODELS).delete(engine);
  });
}

function concat(buffers, total) {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

async function fetchChunk(url, expected, onBytes, signal) {
  const data = await fetchBytes(url, {
    what: 'whatModelPart',
    cache: 'no-store',
    exactBytes: expected.end - expected.start,
    onBytes,
    signal,
  });
  if ((await sha256Hex(data)) !== expected.sha256) {
    throw coded(new Error(msg('errorChunkHash')), 'damaged');
  }
  return data.buffer;
}

/** `err` with a `code` saying what went wrong (lib/model_failures.js turns it into words a user can act on). */
function coded(err, code) {
  return Object.assign(err, { code });
}

/** IndexedDB's quota error, in words; other errors unchanged. */
function storageError(err, spec) {
  if (err?.name === 'QuotaExceededError') {
    return coded(new Error(msg('errorStorageFull', msg(`engineName_${spec.name}`), Math.round(spec.bytes / 1e6))), 'storage');
  }
  return err;
}

/**
 * The model's bytes: from the package when bundled, else from IndexedDB,
 * downloading whatever is missing from `source` (a URL ending in '/').
 * onProgress({loaded, total, phase: 'download' | 'verify'}).
 *
 * Returns {bytes, verify}. For a complete cached model the chunk hashes are
 * checked by `verify()`, which the caller runs while it builds its session
 * (hashing 88 MB costs about as much as reading it); when it resolves false
 * the corrupt chunks are already gone and loading again refetches just those.
 * `signal` stops a download between and within chunks (the chunks already stored stay for a resume).
 *
 * @param {any} spec an engine of the catalogue (lib/catalogue.js)
 * @param {{source?: string, signal?: AbortSignal, onProgress?: (p: {phase: 'download' | 'verify', loaded: number, total: number}) => void}} [options]
 * @returns {Promise<{bytes: Uint8Array, verify: () => Promise<boolean>}>}
 */
export async function loadModelBytes(spec, { source, signal, onProgress = () => {} } = {}) {
  if (spec.bundled) {
    // The package holds an engine's browser form (catalogue `browser`: the .ort, whose session
    // builds faster) in place of its .onnx; build_ext.py verified it against the catalogue.
    const r = await fetch(chrome.runtime.getURL(`models/${spec.browser?.file ?? spec.file}`));
    return { bytes: new Uint8Array(await r.arrayBuffer()), verify: async () => true };
  }
  if (!spec.source.chunks) {
    // A built engine (source.registry 'build') is made at build time and exists nowhere to download.
    throw new Error(msg('errorBuiltMissing', msg(`engineName_${spec.name}`)));
  }
  const total = spec.bytes;
  const expected = spec.source.chunks;
  const [record, chunks] = await Promise.all([
    tx([MODELS], 'readonly', (t) => requested(t.objectStore(MODELS).get(spec.name))),
    readChunks(spec),
  ]);
  if (record?.sha256 === spec.sha256 && chunks.size === expected.length) {
    const bytes = concat(expected.map((c, i) => chunks.get(i)), total);
    return { bytes, verify: () => verifyChunks(spec, chunks) };
  }
  await verifyChunks(spec, chunks); // resume only from good chunks
  let loaded = 0;
  for (const [i, c] of expected.entries()) if (chunks.has(i)) loaded += c.end - c.start;
  const missing = expected.map((c, i) => i).filter((i) => !chunks.has(i));
  if (missing.length) {
    const problem = modelSourceProblem(source);
    if (problem) throw coded(new Error(problem), 'source');
    onProgress({ phase: 'download', loaded, total });
    for (const i of missing) {
      signal?.throwIfAborted();
      const c = expected[i];
      const data = await fetchChunk(
        new URL(c.sha256, source).href,
        c,
        (n) => {
          loaded += n;
          onProgress({ phase: 'download', loaded, total });
        },
        signal,
      );
      // One chunk per transaction: a full disk aborts only this chunk; the ones before stay for a resume.
      await tx([CHUNKS], 'readwrite', (t) => t.objectStore(CHUNKS).put({ sha256: c.sha256, data }, [spec.name, i])).catch(
        (err) => {
          throw storageError(err, spec);
        },
      );
      chunks.set(i, data);
    }
  }
  const bytes = concat(expected.map((c, i) => chunks.get(i)), total);
  // Chunks were verified one by one; check the whole file once before calling it complete.
  onProgress({ phase: 'verify', loaded: total, total });
  if ((await sha256Hex(bytes.buffer)) !== spec.sha256) {
    await deleteModel(spec.name);
    throw coded(new Error(msg('errorModelHash')), 'damaged');
  }
  await tx([MODELS], 'readwrite', (t) =>
    t.objectStore(MODELS).put({ engine: spec.name, sha256: spec.sha256, bytes: total, completedAt: Date.now() }, spec.name),
  ).catch((err) => {
    throw storageError(err, spec);
  });
  return { bytes, verify: async () => true };
}
