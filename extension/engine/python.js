// The Python core (numpy + Pillow + py/backgrone in Pyodide), run in a module Worker
// (python_worker.js over python_core.js) that the engine can terminate: a wasm heap never
// shrinks, a terminated worker's goes back to the system. This is the engine's side: the
// same calls as when Python ran in this document. Images and edit sessions are handles to
// objects the worker holds; the core's refusals come back as UserError in the user's words.
import '../lib/i18n.js';
import { TimingKey, recordTiming } from '../lib/device_timings.js';

const WORKER_URL = new URL('./python_worker.js', import.meta.url);

/**
 * @typedef {{ worker: Worker, generation: number, pending: Map<number, {resolve: Function, reject: Function}>,
 *   nextId: number, ready: Promise<any>, loaded: boolean, held: Set<number>, boot: BootRecord }} Live
 * @typedef {{ fromSnapshot: boolean, ms: number, pyodideMs: number, packagesMs: number, coreMs: number, readMs?: number,
 *   saved: boolean | null }} BootRecord
 * @typedef {{ id: number, generation: number }} Handle an object the worker holds
 */

/** @type {Live | null} the worker (booting or up), if any */
let live = null;
let generation = 0;
let bootStarted = 0;
let inFlight = 0; // calls sent (or waiting for the boot) and not answered
let heapBytes = 0;
/** @type {BootRecord | null} */
let lastBoot = null;

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
function localized({ code, params, error }) {
  const key = `core_${code}`;
  const text = code ? globalThis.BackgroneI18n.t(key, ...(params || [])) : key;
  return text !== key ? text : error;
}

/** The worker is gone (it died, failed to boot, or was released): its calls fail with `err`. */
function end(w, err) {
  w.worker.terminate();
  for (const { reject } of w.pending.values()) reject(err);
  w.pending.clear();
  w.held.clear();
  if (live === w) {
    live = null;
    heapBytes = 0;
  }
}

function onMessage(w, data) {
  if (data.booted) {
    if (w === live) heapBytes = data.heap;
    return w.bootAnswer.resolve(data.booted);
  }
  if (data.bootFailed) return w.bootAnswer.reject(new Error(data.bootFailed));
  if ('saved' in data) {
    w.boot.saved = data.saved;
    return;
  }
  const waiting = w.pending.get(data.id);
  if (!waiting) return;
  w.pending.delete(data.id);
  if (w === live) heapBytes = data.heap || heapBytes;
  if (data.refusal) waiting.reject(new UserError(localized(data.refusal), data.refusal.kind, data.refusal.format));
  else if ('error' in data) waiting.reject(new Error(data.error));
  else waiting.resolve(data.value);
  if (data.dead) end(w, new Error(globalThis.BackgroneI18n.t('errorEngineStopped')));
}

function startWorker() {
  const worker = new Worker(WORKER_URL, { type: 'module' });
  /** @type {any} */
  const w = { worker, generation: ++generation, pending: new Map(), nextId: 1, loaded: false, held: new Set() };
  w.boot = { fromSnapshot: false, ms: 0, pyodideMs: 0, packagesMs: 0, coreMs: 0, saved: null };
  w.ready = new Promise((resolve, reject) => {
    w.bootAnswer = { resolve, reject };
  });
  worker.onmessage = ({ data }) => onMessage(w, data);
  const died = (what) => {
    console.warn(`Python's worker ${what}`);
    const err = new Error(globalThis.BackgroneI18n.t('errorEngineStopped'));
    w.bootAnswer.reject(err);
    end(w, err);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    died(`failed: ${event.message || 'start-failed'}`);
  };
  worker.onmessageerror = () => died('messageerror');
  // A worker has no chrome.*: the extension's URL comes with the first message.
  worker.postMessage({ boot: { base: chrome.runtime.getURL(''), snapshots: true } });
  return /** @type {Live} */ (w);
}

/** Python and the core, booted once (its time kept for this device's estimates): the boot record. */
export function loadPython() {
  if (!live) {
    bootStarted = performance.now();
    const w = startWorker();
    live = w;
    w.ready = w.ready.then(
      (booted) => {
        w.loaded = true;
        Object.assign(w.boot, booted, { ms: performance.now() - bootStarted });
        lastBoot = w.boot;
        recordTiming(TimingKey.boot, w.boot.ms);
        return w.boot;
      },
      (err) => {
        end(w, err);
        throw err;
      },
    );
  }
  return live.ready;
}

/** True once Python is up: a job then waits for no boot. */
export const pythonLoaded = () => !!live?.loaded;

/** How long the boot under way has run, in ms (0 when none is). */
export const bootElapsedMs = () => (live && !live.loaded ? performance.now() - bootStarted : 0);

/** True while a Python worker is booting or up (it holds memory). */
export const pythonLive = () => !!live;

/** The last known size of Python's wasm heap, in bytes (0 when no worker is up). */
export const pythonHeapBytes = () => heapBytes;

/**
 * The last boot: {fromSnapshot, ms (from loadPython to numpy + Pillow + the core ready), its
 * phases in the worker (pyodideMs, packagesMs, coreMs; woken: readMs, until the snapshot was read and checked), saved (the snapshot it made was stored;
 * null: it made none, or not yet)}.
 */
export const pythonBoot = () => lastBoot;

/**
 * Ends the Python worker, giving its memory back; the next call boots a new one. Refused
 * (false, nothing done) while it boots, while a call is in flight and while an image or an
 * edit session it holds is open.
 * @returns {Promise<boolean>} true when no worker is left
 */
export async function releasePython() {
  if (!live) return true;
  if (!live.loaded || inFlight > 0 || live.held.size > 0) return false;
  end(live, new Error('python-released'));
  return true;
}

/**
 * Calls `name` in the worker (booting it first if needed). `handle`: the object it works on,
 * which must be of this worker; `hold`: the key of the answer naming an object the worker
 * now holds (it becomes a handle, counted until released); `transfer`: buffers that move.
 */
async function call(name, args, { handle = null, hold = null, transfer = [] } = {}) {
  inFlight++;
  try {
    await loadPython();
    const w = live;
    if (handle && (handle.generation !== w.generation || !w.held.has(handle.id))) {
      throw new Error(globalThis.BackgroneI18n.t('errorEngineStopped')); // it restarted since this image was opened
    }
    const value = await new Promise((resolve, reject) => {
      const id = w.nextId++;
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage({ id, call: name, args: handle ? [handle.id, ...args] : args }, transfer);
    });
    if (hold) {
      w.held.add(value[hold]);
      value[hold] = { id: value[hold], generation: w.generation };
    }
    return value;
  } finally {
    inFlight--;
  }
}

/** Lets the worker free the object `handle` names (once; nothing for a gone worker). */
function release(handle) {
  const w = live;
  if (!w || w.generation !== handle.generation || !w.held.delete(handle.id)) return;
  w.worker.postMessage({ release: handle.id });
}

const decoded = ({ prepared, width, height }) => ({ prepared, width, height, release: () => release(prepared) });

/**
 * Decode the image (fails fast on a bad file, before any model is loaded).
 * Returns {prepared (a handle), width, height, release()}. `bytes` stay the caller's (copied).
 */
export async function decode(bytes, options) {
  return decoded(await call('decode', [bytes, options], { hold: 'prepared' }));
}

/** Like decode, for RGBA pixels the browser decoded (formats the core's Pillow can't read); they move to Python. */
export async function decodePixels(pixels, width, height, options) {
  return decoded(await call('decodePixels', [pixels, width, height, options], { hold: 'prepared', transfer: [pixels.buffer] }));
}

/** Throws the core's over-limit error for a size read from a header, before anything is decoded. */
export async function checkSize(width, height, options) {
  await call('checkSize', [width, height, options]);
}

/** The model input for `engine`: {tensor: Float32Array, shape}. */
export function tensorFor(image, engine) {
  return call('tensor', [engine], { handle: image.prepared });
}

/**
 * Mask -> encoded output: {data: Uint8Array, mime, width, height, timings: {postprocess, encode} in ms,
 * check: 0..1 how likely it needs a fix, flag: check it first (py/backgrone/check_score.py)}.
 * `output` stays the caller's (copied): the refine editor keeps it.
 */
export function finish(image, output, engine, options) {
  return call('finish', [output, engine, options], { handle: image.prepared });
}

// ---- the refine editor's session (backgrone.edit_session through bridge.py) ----------------

/** An editor's session on a finished job: {session (a handle: close with closeEdit), width, height}. */
export function openEdit(image, output, engine, options) {
  return call('openEdit', [output, engine, options], { handle: image.prepared, hold: 'session' });
}

/**
 * Make `edits` the session's log: {length, box?} (box: where the alpha may have changed), or
 * {need: [{key, tensor, shape}]}: run the model on each, editProvide the outputs, ask again.
 * A log the core refuses throws its message (nothing changed).
 */
export function editSet(session, edits) {
  return call('editSet', [edits], { handle: session });
}

/** A re-detect's raw model output for the input `key` of editSet's need. */
export async function editProvide(session, key, output) {
  await call('editProvide', [key, output], { handle: session });
}

/** Raw bytes the editor draws: 'image' (RGBA), 'start', 'alpha' (one byte a pixel), 'patch' (inside `box`). */
export function editBytes(session, which, box = null) {
  return call('editBytes', [which, box], { handle: session });
}

/** The refined cut-out with the job's options: {data: Uint8Array, mime, width, height}. */
export function editRender(session) {
  return call('editRender', [], { handle: session });
}

/** Frees the session's memory in Python (its image, alphas, masks). */
export function closeEdit(session) {
  release(session);
}
