// onnxruntime-web sessions: WebGPU when an adapter exists, else wasm (SIMD,
// threads when the document is cross-origin isolated).
import '../lib/i18n.js';
import { IN_EVENT_PAGE } from './host.js';
import { Serial, SharedTask } from './shared_task.js';

const { t } = globalThis.BackgroneI18n;
const ORT_BASE = chrome.runtime.getURL('vendor/ort/');
// The build of onnxruntime-web copied into vendor/ort/ by build_ext.py, typed by the npm package.
/** @typedef {typeof import('onnxruntime-web')} Ort */
/** @typedef {import('onnxruntime-web').InferenceSession} InferenceSession */
/** @type {Promise<{ort: Ort, webgpu: boolean}> | null} */
let runtime = null;
/** @type {Map<string, SharedTask<InferenceSession>>} */
const sessions = new Map(); // engine -> its session (being made, or made), most recent last
const runs = new Serial(); // one run at a time per session
const MAX_SESSIONS = 2;

/**
 * True for a hardware WebGPU adapter. A software one (SwiftShader, a
 * "fallback adapter") runs these models ~170x slower than wasm (measured:
 * u2netp 155 s vs 0.9 s), so it counts as none.
 */
async function hasWebGpu() {
  try {
    // Before Chrome 136, isFallbackAdapter was on the adapter itself (no longer in the spec).
    /** @type {(GPUAdapter & {isFallbackAdapter?: boolean}) | null} */
    const adapter = navigator.gpu && (await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }));
    if (!adapter) return false;
    /** @type {Partial<GPUAdapterInfo>} */
    const info = adapter.info || {};
    const software = info.isFallbackAdapter || adapter.isFallbackAdapter || /swiftshader/i.test(info.architecture || '');
    return !software;
  } catch {
    return false;
  }
}

/** @type {Map<number, Promise<{ort: Ort, webgpu: boolean}>>} */
const fewerThreads = new Map(); // thread count -> an onnxruntime of its own with that many

/**
 * The onnxruntime to run an engine in. `maxThreads` (the catalogue's max_threads): an fp32
 * engine whose convolutions sum in another order on more threads (so its bytes would depend
 * on the machine's core count) runs on at most that many. numThreads is global to an
 * onnxruntime, so such an engine gets one of its own: the same module imported under another
 * URL is another instance, with its own wasm memory and threads.
 * @param {number} [maxThreads]
 * @returns {Promise<{ort: Ort, webgpu: boolean}>}
 */
async function loadRuntime(maxThreads) {
  if (!runtime) {
    runtime = (async () => {
      const webgpu = await hasWebGpu();
      /** @type {Ort} */
      const ort = await import(ORT_BASE + (webgpu ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs'));
      ort.env.wasm.wasmPaths = ORT_BASE;
      ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      // In an event page, inference in ORT's worker keeps the page's thread free for the timers that keep it awake.
      ort.env.wasm.proxy = IN_EVENT_PAGE && !webgpu;
      ort.env.logLevel = 'error';
      return { ort, webgpu };
    })();
  }
  const main = await runtime;
  // WebGPU is another computation altogether: no thread count to hold.
  if (!maxThreads || main.webgpu || main.ort.env.wasm.numThreads <= maxThreads) return main;
  let capped = fewerThreads.get(maxThreads);
  if (!capped) {
    capped = (async () => {
      const url = new URL('ort.wasm.min.mjs', ORT_BASE);
      url.searchParams.set('threads', String(maxThreads));
      /** @type {Ort} */
      const ort = await import(url.href);
      ort.env.wasm.wasmPaths = ORT_BASE;
      ort.env.wasm.numThreads = maxThreads;
      ort.env.wasm.proxy = main.ort.env.wasm.proxy;
      ort.env.logLevel = 'error';
      return { ort, webgpu: false };
    })();
    fewerThreads.set(maxThreads, capped);
  }
  return capped;
}

export async function backendInfo() {
  const { ort, webgpu } = await loadRuntime();
  return { webgpu, threads: ort.env.wasm.numThreads, isolated: self.crossOriginIsolated };
}

/**
 * Build a session while the cached bytes are verified; if they turn out
 * corrupt, load again once (which refetches the bad chunks) and rebuild.
 * @param {any} spec an engine of the catalogue
 * @param {() => Promise<{bytes: Uint8Array, verify: () => Promise<boolean>}>} loadBytes
 */
async function createSession(spec, loadBytes) {
  const { ort, webgpu } = await loadRuntime(spec.max_threads);
  /** @type {import('onnxruntime-web').InferenceSession.SessionOptions} */
  const options = { executionProviders: webgpu ? ['webgpu', 'wasm'] : ['wasm'], graphOptimizationLevel: 'all' };
  for (let attempt = 0; ; attempt++) {
    const { bytes, verify } = await loadBytes();
    const [session, verified] = await Promise.allSettled([ort.InferenceSession.create(bytes, options), verify()]);
    if (verified.status === 'fulfilled' && verified.value) {
      if (session.status === 'rejected') throw session.reason;
      return session.value;
    }
    if (session.status === 'fulfilled') await session.value.release();
    if (verified.status === 'rejected') throw verified.reason;
    if (attempt >= 1) throw new Error(t('errorModelCorrupt'));
  }
}

/**
 * A session for `engine`, created from `loadBytes({signal, onProgress})` on first use and
 * kept. Jobs that ask while it is being made wait on the same download, each hearing its
 * progress and each free to leave when its own `signal` aborts; when the last one leaves,
 * the download stops (what it stored stays for a resume) and the next job starts afresh.
 * @param {any} spec an engine of the catalogue
 * @param {(o: {signal: AbortSignal, onProgress: (p: any) => void}) => Promise<{bytes: Uint8Array, verify: () => Promise<boolean>}>} loadBytes
 * @param {{signal?: AbortSignal, onProgress?: (p: any) => void}} [wait]
 * @returns {Promise<InferenceSession>}
 */
export function getSession(spec, loadBytes, wait = {}) {
  let task = sessions.get(spec.name);
  // A download every waiter left is stopping: the next job starts afresh rather than fail with its reason.
  if (task?.abandoned && !task.settled) task = undefined;
  if (task) {
    sessions.delete(spec.name); // refresh recency
  } else {
    task = new SharedTask((signal, onProgress) => createSession(spec, () => loadBytes({ signal, onProgress })));
    const made = task;
    made.promise.catch(() => {
      if (sessions.get(spec.name) === made) sessions.delete(spec.name);
    });
  }
  sessions.set(spec.name, task);
  while (sessions.size > MAX_SESSIONS) {
    const [oldest, old] = sessions.entries().next().value;
    sessions.delete(oldest);
    release(old);
  }
  return task.join(wait);
}

/** True while `engine`'s session is being made (its runtime starting, its bytes loading): a job joins it. */
export function sessionPending(engine) {
  const task = sessions.get(engine);
  return !!task && !task.settled && !task.abandoned;
}

/** True when `engine`'s session is made and kept: a job with it loads nothing. */
export function sessionReady(engine) {
  return sessions.get(engine)?.settled === true; // a failed one leaves the map as it settles
}

/** Release a session once it is made and its last run has ended (never under a run). */
function release(task) {
  task.promise.then((s) => runs.run(s, () => s.release())).catch(() => {});
}

export async function dropSession(engine) {
  const task = sessions.get(engine);
  sessions.delete(engine);
  if (task) release(task);
}

/**
 * Run the model: float32 NCHW tensor -> raw Float32Array of the named output.
 * @param {InferenceSession} session
 * @param {any} spec an engine of the catalogue
 * @param {Float32Array} tensor
 * @param {number[]} shape
 * @returns {Promise<Float32Array>}
 */
export function run(session, spec, tensor, shape) {
  // A job that passed its deadline may still be running (its run can't be stopped): the next waits for it.
  return runs.run(session, () => runNow(session, spec, tensor, shape));
}

async function runNow(session, spec, tensor, shape) {
  const { ort } = await loadRuntime(spec.max_threads); // the runtime that made the session
  const input = new ort.Tensor('float32', tensor, shape);
  const out = await session.run({ [spec.input.name]: input }, [spec.output.name]);
  const result = out[spec.output.name];
  // A float32 output (the catalogue's models): its data is a Float32Array.
  const data = new Float32Array(/** @type {Float32Array} */ (result.location === "cpu" ? result.data : await result.getData()));
  input.dispose?.();
  result.dispose?.();
  return data;
}
