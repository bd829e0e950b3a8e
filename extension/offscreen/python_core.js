// The Python core in Pyodide, realm-free: boots numpy + Pillow + py/backgrone from the
// extension's files and calls the core through bridge.py. It needs no chrome.*, no DOM and no
// localization, so it runs in the engine's Python worker (python_worker.js) as well as in a
// test page's own realm. Calls take and give PyProxies (the caller owns and destroys them) and
// plain values; a result the core refuses throws CoreRefusal with the core's plain fields.
import * as vendored from '../../vendor/pyodide/pyodide.mjs';

const { loadPyodide } = vendored;
/** Pyodide's version (exported by pyodide.mjs; extension/types.d.ts declares only loadPyodide). */
const version = /** @type {any} */ (vendored).version;

/** The core's typed refusal: {error, code, params, kind, format}; python.js words it for the user. */
export class CoreRefusal extends Error {
  constructor(fields) {
    super(fields.error);
    this.fields = fields;
  }
}

/** A snapshot store (py_snapshot.js): read(version) -> bytes|null, write(bytes, version, buildId), drop(). */
/** @typedef {{ read: (v: string) => Promise<Uint8Array|null>, write: (b: Uint8Array, v: string, id: string) => Promise<void>, drop: () => Promise<void> }} SnapshotStore */

// A restore that never settles (Pyodide swallows a failed wasm instantiation and waits for
// ever) must not hold the engine: past this, the snapshot counts as broken.
const RESTORE_TIMEOUT_MS = 20_000;

const withTimeout = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout:${ms}ms`)), ms))]);

/**
 * Pyodide itself, from a baseline memory snapshot when `store` holds a usable one.
 *
 * Everything about Pyodide 0.27.7's private snapshot options lives here:
 * - `_makeSnapshot: true` lets `makeMemorySnapshot()` run. It must run right after loadPyodide,
 *   before any package: with packages it fails ("Unexpected hiwire entry at index 6"), and a
 *   heap with numpy's side modules could not be restored anyway (their code lives in the wasm
 *   table, not the heap). The same interpreter then carries on: loadPackage and numpy work.
 * - `_loadSnapshot: bytes` restores it instead of running Python's startup (0.2-0.4 s instead
 *   of about 2 s). Pyodide checks a magic number and its BUILD_ID (a hash of pyodide.asm.js and
 *   pyodide.asm.wasm) and throws on a mismatch; nothing checks the heap itself, so the store
 *   keeps it gzip'd (whose CRC refuses corrupt or truncated bytes) under Pyodide's version.
 * - Any failure to restore drops the stored snapshot and boots normally, making a fresh one.
 * @param {string} indexURL
 * @param {SnapshotStore | null} store
 */
async function startPyodide(indexURL, store) {
  const quiet = { indexURL, stdout: () => {}, stderr: (s) => console.warn(s) };
  if (!store) return { pyodide: await loadPyodide(quiet), fromSnapshot: false, save: null };
  let snapshot = null;
  try {
    snapshot = await store.read(version);
  } catch (err) {
    console.warn('Python snapshot unreadable, booting without it', err);
  }
  if (snapshot) {
    try {
      const pyodide = await withTimeout(loadPyodide({ ...quiet, _loadSnapshot: snapshot }), RESTORE_TIMEOUT_MS);
      return { pyodide, fromSnapshot: true, save: null };
    } catch (err) {
      console.warn('Python snapshot refused, booting without it', err);
    }
  }
  await store.drop().catch(() => {});
  const pyodide = /** @type {any} */ (await loadPyodide({ ...quiet, _makeSnapshot: true }));
  // A copy of the heap, made now (before any package) and stored once Python is ready: gzip and
  // IndexedDB alongside the packages' load would slow this boot by 0.6-0.8 s on 2 cores.
  let save = null;
  try {
    const made = pyodide.makeMemorySnapshot();
    save = () =>
      store.write(made, version, pyodide._api.config.BUILD_ID).then(
        () => true,
        (err) => (console.warn('Python snapshot not stored', err), false),
      );
  } catch (err) {
    console.warn('Python snapshot not made', err);
  }
  return { pyodide, fromSnapshot: false, save };
}

/**
 * Python and the core, from the extension's root URL `base` (…/ with vendor/, py/, models/).
 * @param {string} base
 * @param {SnapshotStore | null} [store] a baseline snapshot store (none: a plain boot)
 * @returns {Promise<{pyodide: any, mod: any, fromSnapshot: boolean, phases: {pyodideMs: number, packagesMs: number, coreMs: number},
 *   saved: Promise<boolean> | null}>} saved: whether the snapshot this boot made was stored (null: it made none)
 */
export async function bootPython(base, store = null) {
  const url = (path) => new URL(path, base).href;
  const started = performance.now();
  const files = Promise.all([
    fetch(url('py/backgrone.zip')).then((r) => r.arrayBuffer()),
    fetch(url('extension/offscreen/bridge.py')).then((r) => r.text()),
    fetch(url('models/catalogue.json')).then((r) => r.text()),
  ]);
  files.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  const { pyodide, fromSnapshot, save } = await startPyodide(url('vendor/pyodide/'), store);
  const pyodideMs = performance.now() - started;
  // Wheels come from indexURL and are sha256-checked against pyodide-lock.json.
  try {
    await pyodide.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
    const packagesMs = performance.now() - started - pyodideMs;
    const [zip, bridge, catalogue] = await files;
    pyodide.unpackArchive(zip, 'zip', { extractDir: '/lib/backgrone' });
    pyodide.FS.writeFile('/lib/backgrone/backgrone_bridge.py', bridge);
    pyodide.runPython("import sys; sys.path.insert(0, '/lib/backgrone')");
    const mod = pyodide.pyimport('backgrone_bridge');
    mod.init(catalogue);
    const coreMs = performance.now() - started - pyodideMs - packagesMs;
    return { pyodide, mod, fromSnapshot, phases: { pyodideMs, packagesMs, coreMs }, saved: save ? save() : null };
  } catch (err) {
    // A restored heap the rest of the boot fails on would fail every boot after: it goes too.
    if (fromSnapshot) await store?.drop().catch(() => {});
    throw err;
  }
}

/** The size of Pyodide's wasm heap in bytes (it only grows). */
export const heapBytes = (pyodide) => pyodide._module.HEAP8.length;

/** A result dict, or CoreRefusal for one with 'error'. */
function unwrap(result) {
  if (result.has('error')) {
    const params = result.get('params');
    const fields = {
      error: result.get('error'),
      code: result.get('code') ?? null,
      params: params?.toJs ? params.toJs() : [],
      kind: result.get('kind') ?? null,
      format: result.get('format') ?? null,
    };
    params?.destroy?.();
    result.destroy();
    throw new CoreRefusal(fields);
  }
  return result;
}

/** Reads `keys` out of a result dict and destroys it. */
function take(result, keys) {
  try {
    return Object.fromEntries(keys.map((k) => [k, result.get(k)]));
  } finally {
    result.destroy();
  }
}

/** A Float32Array copied out of a numpy array's buffer (the proxy is destroyed). */
function floats(proxy) {
  const buf = proxy.getBuffer('f32');
  try {
    return new Float32Array(buf.data); // copy out of the wasm heap
  } finally {
    buf.release();
    proxy.destroy();
  }
}

/**
 * The core's calls over a booted `mod`. Images and sessions are PyProxies (`prepared`,
 * `session`); the caller destroys them. Arrays given back are copies out of the wasm heap.
 */
export function coreCalls(mod) {
  return {
    /** {prepared (PyProxy), width, height} */
    decode: (bytes, options) => take(unwrap(mod.decode(bytes, options)), ['prepared', 'width', 'height']),
    decodePixels: (pixels, width, height, options) =>
      take(unwrap(mod.decode_pixels(pixels, width, height, options)), ['prepared', 'width', 'height']),
    checkSize: (width, height, options) => void unwrap(mod.check_size(width, height, options)).destroy(),
    /** {tensor: Float32Array, shape: number[]} */
    tensor(prepared, engine) {
      const result = unwrap(mod.tensor(prepared, engine));
      try {
        const shapeProxy = result.get('shape');
        const shape = shapeProxy.toJs();
        shapeProxy.destroy();
        return { tensor: floats(result.get('tensor')), shape };
      } finally {
        result.destroy();
      }
    },
    /** {data: Uint8Array, mime, width, height, timings, check, flag} */
    finish: (prepared, output, engine, options) =>
      take(unwrap(mod.complete(prepared, output, engine, options)), ['data', 'mime', 'width', 'height', 'timings', 'check', 'flag']),
    /** {session (PyProxy), width, height} */
    openEdit: (prepared, output, engine, options) =>
      take(unwrap(mod.edit_open(prepared, output, engine, options)), ['session', 'width', 'height']),
    /** {length, box} or {need: [{key, tensor, shape}]} */
    editSet(session, edits) {
      const result = unwrap(mod.edit_set(session, JSON.stringify(edits)));
      try {
        if (result.has('need')) {
          const list = result.get('need');
          const need = [];
          for (const item of list) {
            const shape = item.get('shape');
            need.push({ key: item.get('key'), tensor: floats(item.get('tensor')), shape: Array.from(shape) });
            item.destroy();
          }
          list.destroy();
          return { need };
        }
        return { length: result.get('length'), box: result.has('box') ? Array.from(result.get('box')) : null };
      } finally {
        result.destroy();
      }
    },
    editProvide: (session, key, output) => void unwrap(mod.edit_provide(session, key, output)).destroy(),
    /** Uint8Array */
    editBytes: (session, which, box = null) => mod.edit_bytes(session, which, box),
    /** {data: Uint8Array, mime, width, height} */
    editRender: (session) => take(unwrap(mod.edit_render(session)), ['data', 'mime', 'width', 'height']),
  };
}
