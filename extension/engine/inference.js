// onnxruntime-web sessions: WebGPU when a hardware adapter exists (float graphs only, and only
// where the adapter offers what the graph needs: an int8 graph, or an fp16 one without
// shader-f16, runs on wasm, gpu_route.js), else wasm (SIMD, threads when the engine is
// cross-origin isolated: thread_count.js). ORT lives in Workers of the engine's own (ort_worker.js),
// never in the engine's document: wasm memory only grows and ORT never gives it back, but a
// terminated Worker gives all of it back (releaseRuntimes), and a running model keeps no
// thread of the document's busy (Firefox's event page keeps its timers).
import '../lib/i18n.js';
import { probeFeatures, runsOnGpu } from './gpu_route.js';
import { Serial, SharedTask } from './shared_task.js';
import { wasmThreads } from './thread_count.js';
import { WorkerCalls, standalone } from './worker_rpc.js';

const { t } = globalThis.BackgroneI18n;
const ORT_BASE = chrome.runtime.getURL('vendor/ort/');
const WORKER_URL = chrome.runtime.getURL('extension/engine/ort_worker.js');
/** @typedef {{webgpu: boolean, threads: number, isolated: boolean}} Backend */
/** @typedef {{runtime: Runtime, id: number}} Session a session inside a runtime's worker (opaque to callers) */

/** @type {Map<string, SharedTask<Session>>} */
const sessions = new Map(); // engine -> its session (being made, or made), most recent last
/** @type {WeakMap<SharedTask<Session>, Session>} */
const made = new WeakMap(); // a task -> its session, from the moment it settles
const runs = new Serial(); // one run at a time per session
let running = 0; // runs asked for and not yet ended (queued ones too)
let making = 0; // sessions being made (their bytes loading, their worker building them), kept or not
// One kept session: each costs its own prepacked weights and arenas (176 MB more for medium).
const MAX_SESSIONS = 1;

/** @type {Promise<Set<string> | null> | null} */
let gpu = null;
/** @returns {Promise<Set<string> | null>} the hardware WebGPU adapter's features, null for none (asked once) */
export const gpuFeatures = () => (gpu ??= probeFeatures(navigator.gpu));
/** @returns {Promise<boolean>} true when this device has a hardware WebGPU adapter */
export const hardwareGpu = async () => !!(await gpuFeatures());
const mainThreads = () => wasmThreads(navigator.hardwareConcurrency, self.crossOriginIsolated);

/** One onnxruntime: a Worker with ORT imported, `threads` its thread count. */
class Runtime {
  /** @param {number} threads @param {boolean} webgpu @param {boolean} main the main runtime (kept without sessions) */
  constructor(threads, webgpu, main) {
    this.key = runtimeKey(webgpu, threads);
    this.main = main;
    this.worker = new Worker(WORKER_URL, { type: 'module', name: `onnxruntime ×${threads}` });
    this.calls = new WorkerCalls(this.worker, () => new Error(t('errorEngineStopped')), () => this.stop());
    /** @type {Set<number>} its sessions, by id */
    this.sessions = new Set();
    /** @type {Backend} what its worker says (threads: ORT's own figure once it made a session) */
    this.backend = { webgpu, threads, isolated: self.crossOriginIsolated };
    /** @type {Promise<unknown>} */
    this.ready = this.calls.call('init', { base: ORT_BASE, webgpu, threads }).then(({ isolated }) => {
      this.backend.isolated = isolated;
    });
    this.ready.catch(() => this.stop()); // a runtime that did not start is not kept: the next job tries again
  }

  get live() {
    return !this.calls.dead;
  }

  /** @param {Uint8Array} bytes the loader's, which may be cached or shared: copied, the copy moved */
  async create(bytes) {
    const copy = bytes.slice();
    const { session, threads, webgpu } = await this.calls.call('create', { bytes: copy }, [copy.buffer]);
    this.backend.threads = threads;
    this.backend.webgpu = webgpu; // what ORT did: a WebGPU runtime whose device failed runs on wasm
    this.sessions.add(session);
    return { runtime: this, id: session };
  }

  /** @param {number} id @param {any} spec @param {Float32Array} tensor moved to the worker when it owns its buffer @param {number[]} shape */
  async run(id, spec, tensor, shape) {
    const data = standalone(tensor);
    const args = { session: id, input: spec.input.name, output: spec.output.name, data, shape };
    return /** @type {Float32Array} */ ((await this.calls.call('run', args, [data.buffer])).data);
  }

  /** @param {number} id */
  async release(id) {
    if (!this.sessions.delete(id) || !this.live) return;
    await this.calls.call('release', { session: id });
    // A runtime other than the main one (fewer threads, or wasm beside a GPU one) holds nothing
    // once its session is gone: its memory goes too.
    if (!this.main && this.sessions.size === 0 && this.calls.busy === 0) this.stop();
  }

  /** Terminate the worker (all its memory goes), fail what waits on it, forget it and its sessions. */
  stop() {
    this.calls.die(); // no-op when it died on its own (then it called us)
    this.worker.terminate();
    if (runtimes.get(this.key) === this) runtimes.delete(this.key);
    if (lastRan === this) lastRan = null;
    for (const [engine, task] of sessions) if (made.get(task)?.runtime === this) sessions.delete(engine);
  }
}

/** @param {boolean} webgpu @param {number} threads */
const runtimeKey = (webgpu, threads) => `${webgpu ? 'webgpu' : 'wasm'}×${threads}`;
/** @type {Map<string, Runtime>} runtimeKey -> its runtime, started or starting (see loadRuntime) */
const runtimes = new Map();
/** @type {Runtime | null} the runtime of the last run asked for: the one backendInfo speaks of */
let lastRan = null;

/**
 * The onnxruntime to run `spec` in, started; without a spec, the main one (mainThreads(),
 * WebGPU when there is a hardware adapter), which stays at rest between sessions. An int8 graph,
 * or one that needs a feature the adapter lacks (an fp16 graph without shader-f16), never runs on
 * WebGPU (gpu_route.js runsOnGpu): on a machine with a GPU it gets a wasm runtime of its own.
 * `max_threads` (the catalogue's): an fp32 engine whose convolutions sum in another order on more
 * threads (so its bytes would depend on the machine's core count) runs on at most that many on
 * wasm. numThreads is global to an onnxruntime, so such an engine gets a worker of its own.
 * Runtimes other than the main one stop when their last session goes.
 * @param {any} [spec] an engine of the catalogue
 * @returns {Promise<Runtime>}
 */
async function loadRuntime(spec) {
  const features = await gpuFeatures();
  const gpu = !!features;
  const webgpu = spec ? runsOnGpu(spec, features) : gpu;
  // WebGPU is another computation altogether: no thread count to hold.
  const cap = spec?.max_threads && !webgpu && mainThreads() > spec.max_threads ? spec.max_threads : 0;
  const threads = cap || mainThreads();
  let runtime = runtimes.get(runtimeKey(webgpu, threads));
  if (!runtime) {
    runtime = new Runtime(threads, webgpu, webgpu === gpu && !cap);
    runtimes.set(runtime.key, runtime);
  }
  await runtime.ready;
  return runtime;
}

/**
 * @returns {Promise<Backend>} the backend of the runtime that ran the last run (a job's own, as the
 * queue runs one at a time), else the main runtime's (as its worker said, once one did)
 */
export async function backendInfo() {
  const gpu = await hardwareGpu();
  const runtime = lastRan?.live ? lastRan : runtimes.get(runtimeKey(gpu, mainThreads()));
  return runtime ? { ...runtime.backend } : { webgpu: gpu, threads: mainThreads(), isolated: self.crossOriginIsolated };
}

/**
 * Start the main runtime (its worker, ORT imported) ahead of a model. Idempotent; never fails:
 * a runtime that did not start is forgotten, and the next call (or job) tries again.
 * @returns {Promise<void>}
 */
export function warmRuntime() {
  return loadRuntime().then(
    () => {},
    () => {},
  );
}

/** True while some runtime's worker exists (holding its memory). */
export function runtimeLive() {
  return runtimes.size > 0;
}

/**
 * Terminate every runtime's worker, which gives back all of its memory, and forget every
 * session (the next job makes its session, in a fresh worker). Refused (false, nothing done)
 * while a session is being made or a run is asked for or under way. Call it with no job in the
 * queue: a job that holds its session between getSession and run would have it taken away.
 * @returns {Promise<boolean>}
 */
export async function releaseRuntimes() {
  if (running > 0 || making > 0) return false;
  sessions.clear();
  for (const runtime of [...runtimes.values()]) runtime.stop();
  return true;
}

/**
 * Build a session while the cached bytes are verified; if they turn out
 * corrupt, load again once (which refetches the bad chunks) and rebuild.
 * @param {any} spec an engine of the catalogue
 * @param {() => Promise<{bytes: Uint8Array, verify: () => Promise<boolean>}>} loadBytes
 * @returns {Promise<Session>}
 */
async function createSession(spec, loadBytes) {
  await loadRuntime(spec); // ORT starts before the bytes come, as it always did
  for (let attempt = 0; ; attempt++) {
    const { bytes, verify } = await loadBytes();
    const runtime = await loadRuntime(spec); // afresh: it may have stopped meanwhile
    const [session, verified] = await Promise.allSettled([runtime.create(bytes), verify()]);
    if (verified.status === 'fulfilled' && verified.value) {
      if (session.status === 'rejected') throw session.reason;
      return session.value;
    }
    if (session.status === 'fulfilled') await runtime.release(session.value.id);
    if (verified.status === 'rejected') throw verified.reason;
    if (attempt >= 1) throw new Error(t('errorModelCorrupt'));
  }
}

/** A kept task whose session's worker is gone (it died, or was released) is no session. */
const gone = (task) => task.settled && made.has(task) && !made.get(task).runtime.live;

/**
 * A session for `engine`, created from `loadBytes({signal, onProgress})` on first use and
 * kept. Jobs that ask while it is being made wait on the same download, each hearing its
 * progress and each free to leave when its own `signal` aborts; when the last one leaves,
 * the download stops (what it stored stays for a resume) and the next job starts afresh.
 * @param {any} spec an engine of the catalogue
 * @param {(o: {signal: AbortSignal, onProgress: (p: any) => void}) => Promise<{bytes: Uint8Array, verify: () => Promise<boolean>}>} loadBytes
 * @param {{signal?: AbortSignal, onProgress?: (p: any) => void}} [wait]
 * @returns {Promise<Session>}
 */
export function getSession(spec, loadBytes, wait = {}) {
  let task = sessions.get(spec.name);
  // A download every waiter left is stopping: the next job starts afresh rather than fail with its reason.
  if (task?.abandoned && !task.settled) task = undefined;
  if (task && gone(task)) task = undefined;
  if (task) {
    sessions.delete(spec.name); // refresh recency
  } else {
    /** @type {SharedTask<Session>} */
    const fresh = new SharedTask(async (signal, onProgress) => {
      const session = await createSession(spec, () => loadBytes({ signal, onProgress }));
      made.set(fresh, session);
      return session;
    });
    making += 1;
    fresh.promise.then(
      () => (making -= 1),
      () => {
        making -= 1;
        if (sessions.get(spec.name) === fresh) sessions.delete(spec.name);
      },
    );
    task = fresh;
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

/** True while some session is made or being made (one is kept at a time: another engine's would go). */
export const hasSessions = () => sessions.size > 0;

/** True when `engine`'s session is made and kept: a job with it loads nothing. */
export function sessionReady(engine) {
  const task = sessions.get(engine);
  return task?.settled === true && !gone(task); // a failed one leaves the map as it settles
}

/** Release a session once it is made and its last run has ended (never under a run). */
function release(task) {
  task.promise.then((s) => runs.run(s, () => s.runtime.release(s.id))).catch(() => {});
}

export async function dropSession(engine) {
  const task = sessions.get(engine);
  sessions.delete(engine);
  if (task) release(task);
}

/**
 * Run the model: float32 NCHW tensor -> raw Float32Array of the named output.
 * `tensor` is moved into the model's worker (detached here) when it spans its own buffer.
 * @param {Session} session
 * @param {any} spec an engine of the catalogue
 * @param {Float32Array} tensor
 * @param {number[]} shape
 * @returns {Promise<Float32Array>}
 */
export async function run(session, spec, tensor, shape) {
  running += 1;
  try {
    // A job that passed its deadline may still be running (its run can't be stopped): the next waits for it.
    lastRan = session.runtime;
    return await runs.run(session, () => session.runtime.run(session.id, spec, tensor, shape));
  } finally {
    running -= 1;
  }
}
