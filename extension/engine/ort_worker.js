// onnxruntime-web in a dedicated module Worker the engine owns (inference.js starts one per
// thread count). Wasm memory only grows and ORT never gives it back, even on session.release();
// terminating this worker gives all of it back.
//
// Protocol (worker_rpc.js is the caller's end). The engine posts {id, op, ...args}; the worker
// answers each with {id, ok: true, ...result} or {id, ok: false, error: message}:
//   init    {base, webgpu, threads} -> {threads, isolated}  import ORT from `base` (vendor/ort/: no chrome.* here)
//   create  {bytes: Uint8Array}     -> {session, threads, webgpu}  a session from the model (its buffer transferred);
//                                                           threads: what ORT settled on (1 without SharedArrayBuffer);
//                                                           webgpu: ORT made its WebGPU device (['webgpu','wasm'] falls
//                                                           back to wasm without a word when it can't)
//   run     {session, input, output, data: Float32Array, shape} -> {data: Float32Array}  both buffers transferred
//   release {session}               -> {}
// A message outside this protocol is a bug: the worker throws, uncaught, and its owner takes that
// error event for the worker's death (as any other), failing what waits and starting afresh.
import { standalone } from './worker_rpc.js';

// The build of onnxruntime-web copied into vendor/ort/ by build_ext.py, typed by the npm package.
/** @typedef {typeof import('onnxruntime-web')} Ort */
/** @typedef {import('onnxruntime-web').InferenceSession} InferenceSession */

/** @type {Ort | null} */
let ort = null;
let webgpu = false;
/** @type {Map<number, InferenceSession>} */
const sessions = new Map();
let nextSession = 1;

function sessionOf(id) {
  const session = sessions.get(id);
  if (!session) throw new Error(`ort-worker-no-session:${id}`); // a protocol fault, never a user's
  return session;
}

/** @type {Record<string, (msg: any) => Promise<{[key: string]: any}>>} */
const ops = {
  async init({ base, webgpu: gpu, threads }) {
    ort = await import(base + (gpu ? 'ort.webgpu.min.mjs' : 'ort.wasm.min.mjs'));
    webgpu = gpu;
    ort.env.wasm.wasmPaths = base;
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false; // this worker is the thread ORT would have proxied to
    ort.env.logLevel = 'error';
    // The adapter whose features the route checked (gpu_route.js probeFeatures): on a machine with two
    // GPUs, ORT's default could open the other, which may lack shader-f16.
    if (gpu) ort.env.webgpu.powerPreference = 'high-performance';
    return { threads, isolated: self.crossOriginIsolated };
  },

  async create({ bytes }) {
    /** @type {import('onnxruntime-web').InferenceSession.SessionOptions} */
    const options = { executionProviders: webgpu ? ['webgpu', 'wasm'] : ['wasm'], graphOptimizationLevel: 'all' };
    const session = await ort.InferenceSession.create(bytes, options);
    const id = nextSession++;
    sessions.set(id, session);
    return { session: id, threads: ort.env.wasm.numThreads, webgpu: webgpu && !!ort.env.webgpu?.device };
  },

  async run({ session, input, output, data, shape }) {
    const tensor = new ort.Tensor('float32', data, shape);
    const out = await sessionOf(session).run({ [input]: tensor }, [output]);
    const result = out[output];
    // A float32 output (the catalogue's models): its data is a Float32Array of its own, or made one.
    const floats = standalone(/** @type {Float32Array} */ (result.location === 'cpu' ? result.data : await result.getData()));
    tensor.dispose?.();
    result.dispose?.();
    return { data: floats };
  },

  async release({ session }) {
    const made = sessions.get(session);
    sessions.delete(session);
    await made?.release();
    return {};
  },
};

self.onmessage = ({ data: msg }) => {
  if (typeof msg?.id !== 'number' || !Object.hasOwn(ops, msg.op)) {
    throw new Error(`ort-worker-protocol:${JSON.stringify(msg)?.slice(0, 200)}`); // ends the worker
  }
  ops[msg.op](msg).then(
    (result) => self.postMessage({ ...result, id: msg.id, ok: true }, { transfer: result.data ? [result.data.buffer] : [] }),
    (err) => self.postMessage({ id: msg.id, ok: false, error: String(err?.message || err) }),
  );
};
