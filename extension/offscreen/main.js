// The engine: answers CUT requests one at a time, in arrival order.
// image bytes -> Python prepare -> onnxruntime-web -> Python finish -> data URL
import '../lib/messages.js';
import { loadCatalogue } from '../lib/catalogue.js';
import { deleteModel, loadModelBytes, modelState } from '../lib/model_store.js';
import { backendInfo, dropSession, getSession, run } from './inference.js';
import { finish, loadPython, prepare } from './python.js';

const { Target, Type, message, isMessage } = globalThis.BackgroneMessages;
const MAX_IMAGE_BYTES = 200 * 1024 * 1024;
// Chrome's runtime messages carry at most 64 MiB of JSON; leave room for the envelope.
const MAX_MESSAGE_CHARS = 60 * 1024 * 1024;
const FALLBACK_ENGINE = 'fast';

let queue = Promise.resolve();
function enqueue(task) {
  const next = queue.then(task, task);
  queue = next.catch(() => {});
  return next;
}

function progress(data) {
  chrome.runtime.sendMessage(message(Target.UI, Type.PROGRESS, data)).catch(() => {});
}

async function fetchImage(src) {
  let response;
  try {
    response = await fetch(src, { credentials: 'include', cache: 'force-cache' });
  } catch (err) {
    throw new Error('The image could not be downloaded (network error).');
  }
  if (!response.ok) throw new Error(`The image could not be downloaded (HTTP ${response.status}).`);
  const length = Number(response.headers.get('content-length') || 0);
  if (length > MAX_IMAGE_BYTES) throw new Error(`The image file is too large (${Math.round(length / 1e6)} MB).`);
  const buffer = await response.arrayBuffer();
  if (buffer.byteLength > MAX_IMAGE_BYTES) throw new Error('The image file is too large.');
  if (buffer.byteLength === 0) throw new Error('The image file is empty (0 bytes).');
  return new Uint8Array(buffer);
}

function toDataUrl(bytes, mime) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(new Blob([bytes], { type: mime }));
  });
}

/** A session for the engine; on a model that can't be had, fall back to `fast` and say why. */
async function sessionFor(engine, modelSource, report, timings) {
  const catalogue = await loadCatalogue();
  const spec = catalogue.engines[engine];
  if (!spec) throw new Error(`Unknown engine "${engine}".`);
  const load = async () => {
    const t0 = performance.now();
    const loaded = await loadModelBytes(spec, {
      source: modelSource,
      onProgress: ({ phase, loaded, total }) =>
        report({ stage: phase === 'download' ? 'downloading-model' : 'verifying-model', engine, loaded, total }),
    });
    timings.modelBytes = performance.now() - t0;
    return loaded;
  };
  try {
    report({ stage: 'loading-engine', engine });
    return { spec, session: await getSession(spec, load), notice: null };
  } catch (err) {
    if (engine === FALLBACK_ENGINE) throw err;
    const state = await modelState(spec).catch(() => ({ cached: false }));
    if (state.cached) throw err;
    const fallback = catalogue.engines[FALLBACK_ENGINE];
    const notice = `The ${engine} model could not be downloaded (${err.message}), so the fast engine was used.`;
    report({ stage: 'loading-engine', engine: FALLBACK_ENGINE, notice });
    return { spec: fallback, session: await getSession(fallback, () => loadModelBytes(fallback)), notice };
  }
}

async function cut({ jobId, src, engine, options, modelSource, reply }) {
  const report = (d) => progress({ jobId, reply, ...d });
  // A heartbeat keeps the service worker (which relays our answer) from idling
  // out during a long inference, and tells the page the engine is alive.
  const heartbeat = setInterval(() => report({ stage: 'heartbeat' }), 5000);
  try {
    return await runCut({ src, engine, options, modelSource, report });
  } finally {
    clearInterval(heartbeat);
  }
}

async function runCut({ src, engine, options, modelSource, report }) {
  const timings = {}; // milliseconds per step, reported with the result (bench/ reads them)
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    timings[name] = now - t;
    t = now;
  };
  report({ stage: 'fetching-image' });
  const [bytes] = await Promise.all([fetchImage(src), loadPython()]);
  lap('fetchAndPython');
  const { spec, session, notice } = await sessionFor(engine, modelSource, report, timings);
  lap('model');
  report({ stage: 'removing-background', engine: spec.name });
  const started = await prepare(bytes, spec.name, options);
  lap('prepare');
  let output;
  try {
    output = await run(session, spec, started.tensor, started.shape);
  } catch (err) {
    started.prepared.destroy();
    await dropSession(spec.name); // a broken session is rebuilt next time
    throw new Error(`The model failed to run (${err.message || err}).`);
  }
  lap('inference');
  report({ stage: 'encoding' });
  const done = await finish(started.prepared, output, spec.name, options);
  lap('finish');
  const dataUrl = await toDataUrl(done.data, done.mime);
  lap('dataUrl');
  if (dataUrl.length > MAX_MESSAGE_CHARS) {
    throw new Error(`The cut-out is too large to hand over (${Math.round(dataUrl.length / 1e6)} MB); try a smaller image.`);
  }
  return {
    ok: true,
    dataUrl,
    mime: done.mime,
    width: started.width,
    height: started.height,
    engine: spec.name,
    notice,
    timings,
    backend: await backendInfo(),
  };
}

async function modelStatus() {
  const catalogue = await loadCatalogue();
  const engines = {};
  for (const [name, spec] of Object.entries(catalogue.engines)) {
    const state = spec.bundled ? { cached: true } : await modelState(spec);
    engines[name] = { ...state, bundled: spec.bundled, bytes: spec.bytes, title: spec.title };
  }
  return { ok: true, engines };
}

async function deleteModels({ engines }) {
  const catalogue = await loadCatalogue();
  for (const name of engines || Object.keys(catalogue.engines)) {
    if (catalogue.engines[name]?.bundled) continue;
    await dropSession(name);
    await deleteModel(name);
  }
  return { ok: true };
}

const handlers = {
  [Type.CUT]: (data) => enqueue(() => cut(data)),
  [Type.MODEL_STATUS]: modelStatus,
  [Type.DELETE_MODELS]: (data) => enqueue(() => deleteModels(data)),
};

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id || !isMessage(msg, Target.OFFSCREEN)) return false;
  const handler = handlers[msg.type];
  if (!handler) return false;
  Promise.resolve()
    .then(() => handler(msg.data))
    .then(sendResponse, (err) => sendResponse({ ok: false, error: String(err?.message || err) }));
  return true; // answer asynchronously
});

// Warm up Python while the first request is on its way.
loadPython().catch((err) => console.error('Python failed to load', err));
