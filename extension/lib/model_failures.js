// A model download that failed, remembered until a download of it succeeds: the engine
// then uses the nearest built-in engine at once instead of trying the network on every
// cut, and options and popup show the failure with Retry. localStorage of the extension's
// origin, which the engine document, the popup and options share; it outlives the engine
// document. Pure (the storage is a parameter): runs in Node tests.
const KEY = 'backgrone-model-failures-v1';

/** What went wrong, in the words a user can act on. */
export const FailureKind = Object.freeze({
  /** The connection: no answer, a network error, a server error (5xx, 408, 429), a download cut off. */
  network: 'network',
  /** The model source does not offer the model (a redirect, an address refused, a 403, 404, 410: any other 4xx). */
  source: 'source',
  /** Not enough free storage to keep it. */
  storage: 'storage',
  /** It arrived, but not as published (a checksum did not match). */
  damaged: 'damaged',
});

/**
 * The kind of a download's error: model_store.js marks storage and damage (`code`),
 * net.js marks fetch errors (`code`: timeout, network, http with its `status`, redirect, refused, …).
 * @param {any} err
 * @returns {string} one of FailureKind
 */
export function failureKind(err) {
  const code = err?.code;
  if (code === 'storage' || code === 'damaged') return code;
  if (code === 'redirect' || code === 'refused' || code === 'source') return FailureKind.source;
  // A client error is the source's answer (moved, gone, forbidden); only "too slow, too many" is passing.
  const status = Number(err?.status);
  if (code === 'http' && status >= 400 && status < 500 && status !== 408 && status !== 429) return FailureKind.source;
  return FailureKind.network;
}

/** {engine: {kind, detail, at}}; a missing or damaged record is empty. */
function readAll(storage) {
  try {
    const record = JSON.parse(storage?.getItem(KEY) || '{}');
    return record && typeof record === 'object' && !Array.isArray(record) ? record : {};
  } catch {
    return {};
  }
}

function writeAll(record, storage) {
  try {
    if (Object.keys(record).length) storage?.setItem(KEY, JSON.stringify(record));
    else storage?.removeItem(KEY);
  } catch {
    // storage refused: the failure is then only as long-lived as this answer
  }
}

/**
 * The failure kept for `engine`, or null.
 * @returns {{kind: string, detail: string, at: number} | null}
 */
export function failureOf(engine, storage = globalThis.localStorage) {
  const f = readAll(storage)[engine];
  return f && typeof f.kind === 'string' && Object.values(FailureKind).includes(f.kind)
    ? { kind: f.kind, detail: typeof f.detail === 'string' ? f.detail : '', at: Number(f.at) || 0 }
    : null;
}

/** Remembers that `engine`'s download failed with `err`. */
export function recordFailure(engine, err, storage = globalThis.localStorage) {
  const record = readAll(storage);
  record[engine] = { kind: failureKind(err), detail: String(err?.message || err || '').slice(0, 500), at: Date.now() };
  writeAll(record, storage);
}

/** Forgets `engine`'s failure (its download succeeded, or its model was deleted: engine/main.js). */
export function clearFailure(engine, storage = globalThis.localStorage) {
  const record = readAll(storage);
  if (!(engine in record)) return;
  delete record[engine];
  writeAll(record, storage);
}
