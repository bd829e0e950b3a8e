// The Python core in Pyodide: numpy + Pillow + py/backgrone, all from the package.
import { loadPyodide } from '../../vendor/pyodide/pyodide.mjs';
import '../lib/i18n.js';
import { TimingKey, recordTiming } from '../lib/device_timings.js';

const url = (path) => chrome.runtime.getURL(path);
let ready = null;
let loaded = false;
let bootStarted = 0;

async function boot() {
  const indexURL = url('vendor/pyodide/');
  const pyodide = await loadPyodide({ indexURL, stdout: () => {}, stderr: (s) => console.warn(s) });
  // Wheels come from indexURL and are sha256-checked against pyodide-lock.json.
  await pyodide.loadPackage(['numpy', 'pillow'], { messageCallback: () => {} });
  const [zip, bridge, catalogue] = await Promise.all([
    fetch(url('py/backgrone.zip')).then((r) => r.arrayBuffer()),
    fetch(url('extension/offscreen/bridge.py')).then((r) => r.text()),
    fetch(url('models/catalogue.json')).then((r) => r.text()),
  ]);
  pyodide.unpackArchive(zip, 'zip', { extractDir: '/lib/backgrone' });
  pyodide.FS.writeFile('/lib/backgrone/backgrone_bridge.py', bridge);
  pyodide.runPython("import sys; sys.path.insert(0, '/lib/backgrone')");
  const mod = pyodide.pyimport('backgrone_bridge');
  mod.init(catalogue);
  return { pyodide, mod };
}

/** Python and the core, booted once (its time kept for this device's estimates). */
export function loadPython() {
  if (!ready) {
    bootStarted = performance.now();
    ready = boot().then(
      (python) => {
        loaded = true;
        recordTiming(TimingKey.boot, performance.now() - bootStarted);
        return python;
      },
      (err) => {
        ready = null;
        throw err;
      },
    );
  }
  return ready;
}

/** True once Python is up: a job then waits for no boot. */
export const pythonLoaded = () => loaded;

/** How long the boot under way has run, in ms (0 when none is). */
export const bootElapsedMs = () => (ready && !loaded ? performance.now() - bootStarted : 0);

/** A message for the user (from the core's typed errors), not a crash; `kind` names the error class. */
class UserError extends Error {
  constructor(message, kind, format) {
    super(message);
    this.kind = kind;
    this.format = format;
  }
}

/**
 * The core's message in the browser's language: its `code` names the key
 * core_<code> in _locales; a message without one (the core's internal checks) stays as the core wrote it.
 */
function localized(result) {
  const code = result.get('code');
  const params = result.get('params');
  const values = params?.toJs ? params.toJs() : [];
  params?.destroy?.();
  const key = `core_${code}`;
  const text = code ? globalThis.BackgroneI18n.t(key, ...values) : key;
  return text !== key ? text : result.get('error');
}

function unwrap(result) {
  if (result.has('error')) {
    const error = new UserError(localized(result), result.get('kind'), result.get('format'));
    result.destroy();
    throw error;
  }
  return result;
}

function decoded(result) {
  try {
    const prepared = result.get('prepared');
    return {
      prepared,
      width: result.get('width'),
      height: result.get('height'),
      release: () => prepared.destroy(),
    };
  } finally {
    result.destroy();
  }
}

/**
 * Decode the image (fails fast on a bad file, before any model is loaded).
 * Returns {prepared (PyProxy), width, height, release()}.
 */
export async function decode(bytes, options) {
  const { mod } = await loadPython();
  return decoded(unwrap(mod.decode(bytes, options)));
}

/** Like decode, for RGBA pixels the browser decoded (formats the core's Pillow can't read). */
export async function decodePixels(pixels, width, height, options) {
  const { mod } = await loadPython();
  return decoded(unwrap(mod.decode_pixels(pixels, width, height, options)));
}

/** Throws the core's over-limit error for a size read from a header, before anything is decoded. */
export async function checkSize(width, height, options) {
  const { mod } = await loadPython();
  unwrap(mod.check_size(width, height, options)).destroy();
}

/** The model input for `engine`: {tensor: Float32Array, shape}. */
export async function tensorFor(image, engine) {
  const { mod } = await loadPython();
  const result = unwrap(mod.tensor(image.prepared, engine));
  try {
    const tensorProxy = result.get('tensor');
    const buf = tensorProxy.getBuffer('f32');
    const tensor = new Float32Array(buf.data); // copy out of the wasm heap
    buf.release();
    tensorProxy.destroy();
    const shapeProxy = result.get('shape');
    const shape = shapeProxy.toJs();
    shapeProxy.destroy();
    return { tensor, shape };
  } finally {
    result.destroy();
  }
}

/**
 * Mask -> encoded output: {data: Uint8Array, mime, width, height, timings: {postprocess, encode} in ms,
 * check: 0..1 how likely it needs a fix, flag: check it first (py/backgrone/check_score.py)}.
 */
export async function finish(image, output, engine, options) {
  const { mod } = await loadPython();
  const result = unwrap(mod.complete(image.prepared, output, engine, options));
  try {
    return {
      data: result.get('data'), mime: result.get('mime'), width: result.get('width'), height: result.get('height'), timings: result.get('timings'),
      check: result.get('check'), flag: result.get('flag'),
    };
  } finally {
    result.destroy();
  }
}

// ---- the refine editor's session (backgrone.edit_session through bridge.py) ----------------

/** A Float32Array copied out of a numpy array's buffer. */
function floats(proxy) {
  const buf = proxy.getBuffer('f32');
  try {
    return new Float32Array(buf.data); // copy out of the wasm heap
  } finally {
    buf.release();
    proxy.destroy();
  }
}

/** An editor's session on a finished job: {session (PyProxy: close with closeEdit), width, height}. */
export async function openEdit(image, output, engine, options) {
  const { mod } = await loadPython();
  const result = unwrap(mod.edit_open(image.prepared, output, engine, options));
  try {
    return { session: result.get('session'), width: result.get('width'), height: result.get('height') };
  } finally {
    result.destroy();
  }
}

/**
 * Make `edits` the session's log: {length, box?} (box: where the alpha may have changed), or
 * {need: [{key, tensor, shape}]}: run the model on each, editProvide the outputs, ask again.
 * A log the core refuses throws its message (nothing changed).
 */
export async function editSet(session, edits) {
  const { mod } = await loadPython();
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
}

/** A re-detect's raw model output for the input `key` of editSet's need. */
export async function editProvide(session, key, output) {
  const { mod } = await loadPython();
  unwrap(mod.edit_provide(session, key, output)).destroy();
}

/** Raw bytes the editor draws: 'image' (RGBA), 'start', 'alpha' (one byte a pixel), 'patch' (inside `box`). */
export async function editBytes(session, which, box = null) {
  const { mod } = await loadPython();
  return mod.edit_bytes(session, which, box);
}

/** The refined cut-out with the job's options: {data: Uint8Array, mime, width, height}. */
export async function editRender(session) {
  const { mod } = await loadPython();
  const result = unwrap(mod.edit_render(session));
  try {
    return { data: result.get('data'), mime: result.get('mime'), width: result.get('width'), height: result.get('height') };
  } finally {
    result.destroy();
  }
}

/** Frees the session's memory in Python (its image, alphas, masks). */
export function closeEdit(session) {
  session.destroy();
}
