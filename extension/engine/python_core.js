// The Python core in Pyodide, realm-free: boots numpy + Pillow + py/backgrone from the
// extension's files and calls the core through bridge.py. It needs no chrome.*, no DOM and no
// localization, so it runs in the engine's Python worker (python_worker.js) as well as in a
// test page's own realm. Calls take and give PyProxies (the caller owns and destroys them) and
// plain values; a result the core refuses throws CoreRefusal with the core's plain fields.
import * as vendored from '../../vendor/pyodide/pyodide.mjs';
import { makeFull, openFull, recordLoads, restoreFull } from './py_restore.js';
import { digest } from './py_snapshot.js';

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

/** A snapshot store (py_snapshot.js): read(version, key) -> bytes|null, write(bytes, version, key, buildId), drop(). */
/** @typedef {{ read: (v: string, key: string) => Promise<Uint8Array|null>, write: (b: Uint8Array, v: string, key: string, id: string) => Promise<void>, drop: () => Promise<void> }} SnapshotStore */

// A restore that never settles (Pyodide swallows a failed wasm instantiation and waits for
// ever) must not hold the engine: past this, the snapshot counts as broken.
const RESTORE_TIMEOUT_MS = 20_000;

const withTimeout = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout:${ms}ms`)), ms))]);

// How the boot makes what a snapshot holds (the packages, the core's place, the record's layout):
// bump BOOT_STEPS whenever startPython or py_restore.js changes what a snapshot holds.
const PACKAGES = ['numpy', 'pillow'];
const BOOT_STEPS = `boot 1; packages ${PACKAGES.join(',')}; core /lib/backgrone`;

/** What a snapshot holds besides Pyodide: the core's files and the boot's steps. Another one is foreign. */
const coreKey = async (parts) => digest(await new Blob(parts).arrayBuffer());

/**
 * Python with numpy, Pillow and the core imported: restored from the store's full snapshot
 * (py_restore.js) when it holds a usable one, else booted (loadPackage, the core unpacked and
 * imported) and a snapshot made of it before any job has run (so it holds no user data).
 *
 * Pyodide 0.27.7's private snapshot options: `_makeSnapshot: true` lets makeMemorySnapshot()
 * run; `_loadSnapshot: bytes` restores a heap instead of running Python's startup. Pyodide
 * checks a magic number and its BUILD_ID (a hash of pyodide.asm.js and .wasm) and throws on a
 * mismatch; the store keeps the bytes with their SHA-256 (which refuses damage) under Pyodide's
 * version and a hash of the core's files. Any failure to restore drops the stored snapshot and boots
 * normally, making a fresh one.
 * @param {string} indexURL
 * @param {SnapshotStore | null} store
 * @param {() => Promise<{zip: ArrayBuffer, bridge: string, catalogue: string}>} files
 */
async function startPython(indexURL, store, files) {
  const quiet = { indexURL, stdout: () => {}, stderr: (s) => console.warn(s) };
  const started = performance.now();
  // The core's files name the snapshot; without a store they are awaited only once Pyodide is up.
  let core = store ? await files() : null;
  const key = core ? await coreKey([BOOT_STEPS, core.zip, core.bridge, core.catalogue]) : '';
  if (store) {
    let bytes = null;
    try {
      bytes = await store.read(version, key);
    } catch (err) {
      console.warn('Python snapshot unreadable, booting without it', err);
    }
    const readMs = performance.now() - started; // the core's files hashed, the record read and its digest checked
    const full = bytes && openFull(bytes);
    if (full) {
      try {
        const restoring = restoreFull(loadPyodide, quiet, full, new URL('pyodide.asm.js', indexURL).href);
        const pyodide = await withTimeout(restoring, RESTORE_TIMEOUT_MS);
        // numpy's and Pillow's code through the re-linked table, before any job trusts it. (Code,
        // written without "word. word" so the locale check does not take it for English.)
        const probe = "import\tnumpy\nfrom\tPIL\timport\tImage\nint(getattr(numpy,'arange')(5).sum())+len(getattr(Image,'new')('L',(2,3),7).tobytes())";
        if (pyodide.runPython(probe) !== 16) throw new Error('snapshot-probe');
        const mod = pyodide.pyimport('backgrone_bridge');
        const pyodideMs = performance.now() - started;
        return { pyodide, mod, fromSnapshot: true, phases: { pyodideMs, packagesMs: 0, coreMs: 0, readMs }, save: null };
      } catch (err) {
        console.warn('Python snapshot refused, booting without it', err);
      }
    }
    await store.drop().catch(() => {});
  }
  const pyodide = /** @type {any} */ (await loadPyodide({ ...quiet, _makeSnapshot: !!store }));
  const pyodideMs = performance.now() - started;
  // Wheels come from indexURL and are sha256-checked against pyodide-lock.json.
  const recorder = store ? recordLoads(pyodide._module) : null;
  try {
    await pyodide.loadPackage(PACKAGES, { messageCallback: () => {} });
  } finally {
    recorder?.stop();
  }
  const packagesMs = performance.now() - started - pyodideMs;
  core ??= await files();
  pyodide.unpackArchive(core.zip, 'zip', { extractDir: '/lib/backgrone' });
  pyodide.FS.writeFile('/lib/backgrone/backgrone_bridge.py', core.bridge);
  pyodide.runPython("import sys; sys.path.insert(0, '/lib/backgrone')");
  const mod = pyodide.pyimport('backgrone_bridge');
  mod.init(core.catalogue);
  const coreMs = performance.now() - started - pyodideMs - packagesMs;
  // The copy is made now, before any job; its digest and IndexedDB wait until Python is ready.
  let save = null;
  if (store) {
    try {
      const made = makeFull(pyodide, recorder, ['/lib/backgrone']);
      save = () =>
        store.write(made, version, key, pyodide._api.config.BUILD_ID).then(
          () => true,
          (err) => (console.warn('Python snapshot not stored', err), false),
        );
    } catch (err) {
      console.warn('Python snapshot not made', err);
    }
  }
  return { pyodide, mod, fromSnapshot: false, phases: { pyodideMs, packagesMs, coreMs }, save };
}

/**
 * Python and the core, from the extension's root URL `base` (…/ with vendor/, py/, models/).
 * @param {string} base
 * @param {SnapshotStore | null} [store] a snapshot store (none: a plain boot)
 * @returns {Promise<{pyodide: any, mod: any, fromSnapshot: boolean, phases: {pyodideMs: number, packagesMs: number, coreMs: number, readMs?: number},
 *   saved: Promise<boolean> | null}>} saved: whether the snapshot this boot made was stored (null: it made none)
 */
export async function bootPython(base, store = null) {
  const url = (path) => new URL(path, base).href;
  const fetched = Promise.all([
    fetch(url('py/backgrone.zip')).then((r) => r.arrayBuffer()),
    fetch(url('extension/engine/bridge.py')).then((r) => r.text()),
    fetch(url('models/catalogue.json')).then((r) => r.text()),
  ]);
  fetched.catch(() => {}); // awaited in startPython; not an unhandled rejection meanwhile
  const files = () => fetched.then(([zip, bridge, catalogue]) => ({ zip, bridge, catalogue }));
  const { pyodide, mod, fromSnapshot, phases, save } = await startPython(url('vendor/pyodide/'), store, files);
  return { pyodide, mod, fromSnapshot, phases, saved: save ? save() : null };
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
