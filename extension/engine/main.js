// The engine: answers CUT requests one at a time, in arrival order.
// image bytes -> Python decode -> model session -> Python tensor ->
// onnxruntime-web -> Python finish -> result store -> the page or the popup
import '../lib/messages.js';
import '../lib/i18n.js';
import { loadCatalogue } from '../lib/catalogue.js';
import { deleteModel, modelState, pruneModels } from '../lib/model_store.js';
import { clearFailure } from '../lib/model_failures.js';
import { cutoutFilename } from '../lib/names.js';
import { backendInfo, dropSession, hardwareGpu, releaseRuntimes, run, runtimeLive, warmRuntime } from './inference.js';
import { downloadModel, downloadState, prewarmSession, refuseGpu, routedEngine, sessionFor } from './model_session.js';
import { acceptPort, claimPort } from './job_ports.js';
import { JobQueue } from './job_queue.js';
import { decodeImage } from './browser_decode.js';
import { drop as dropSnapshot } from './py_snapshot.js';
import { finish, loadPython, pythonBoot, pythonHeapBytes, pythonLive, releasePython, tensorFor } from './python.js';
import { keepRun, modelStep, readyPython } from './cold_start.js';
import { IN_EVENT_PAGE, holdAwake, keepingAwake } from './host.js';
import { addResult, heldResults, releaseResult, replaceResult, resultUrl } from './results.js';
import { addRecipe, dropRecipe } from './refine_store.js';
import { createEditSessions } from './edit_sessions.js';
import { readSource } from './image_source.js';
import { createBatch } from './batch.js';
import { createRest } from './rest.js';
import { withBackgroundImage } from '../lib/background_store.js';

const { t } = globalThis.BackgroneI18n;
// Our words, in the language our creator named (this document has no chrome.i18n).
const languageLoaded = globalThis.BackgroneI18n.load(new URLSearchParams(location.search).get('lang') || 'en');

const { Target, Type, Stage, BATCH_PORT, EDIT_PORT, message, parse } = globalThis.BackgroneMessages;
const HEARTBEAT_MS = 5000;
const SHOWN_MS = 30_000;
const HELD_MS = 30 * 60_000; // how long an event page stays awake for a page that still offers Save
const queue = new JobQueue(10 * 60_000);

/**
 * Ask the service worker to close this document (Chromium): true when it will. Firefox's
 * event page has no such request; the browser suspends it once nothing keeps it awake.
 */
async function askToClose() {
  const answer = await chrome.runtime.sendMessage(message(Target.BACKGROUND, Type.ENGINE_IDLE, {})).catch(() => null);
  return answer?.ok === true;
}
/**
 * Boot both runtimes at once, on their own threads: Python, and `engine`'s session when its model
 * is on this device. No-ops for what is up; a failed boot is said by the job's own wait for it.
 * @param {{engine: string, modelSource: string}} data
 */
function wake({ engine, modelSource }) {
  loadPython().catch(() => {});
  prewarmSession(engine, modelSource);
}

/** End both runtimes' workers; false when either was busy (the rest tries again later). */
async function releaseWorkers() {
  const [model, python] = await Promise.all([releaseRuntimes(), releasePython()]);
  return model && python;
}
// Held: a result a page still offers (Save reads it here), the popup's kept batch (made below).
const rest = createRest({ release: releaseWorkers, held: () => heldResults() > 0 || batch.held(), close: IN_EVENT_PAGE ? undefined : askToClose });

/** Work for `rest`: the engine does not rest under it. */
async function working(work) {
  const end = rest.begin();
  try {
    return await work();
  } finally {
    end();
  }
}

function broadcast(data) {
  chrome.runtime.sendMessage(message(Target.UI, Type.PROGRESS, data)).catch(() => {});
}

/**
 * The model's part of a job, inside the queue: decode, session, tensor, model,
 * finish. Stops when its deadline passes or its page goes away: at once while it
 * waits for a model's download (which stops too, unless another job waits on it),
 * else at the next step.
 */
async function runCut({ engine, options, modelSource }, bytes, channel, report, timings, deadline) {
  const signal = channel ? AbortSignal.any([deadline, channel.closedSignal]) : deadline;
  const check = () => signal.throwIfAborted();
  let lapStart = performance.now();
  const lap = (step) => {
    const now = performance.now();
    timings[step] = now - lapStart;
    lapStart = now;
    check();
  };
  check();
  const booted = await readyPython(engine, report); // says STARTING_ENGINE while Python boots
  lap('python');
  const runStart = performance.now();
  // A bad file fails here, before any model is downloaded or loaded.
  report({ stage: Stage.DECODING });
  const image = await decodeImage(bytes, options);
  try {
    lap('decode');
    // The step names, and times, the graph that will run (on a GPU, Standard's job runs Medium): a
    // warm Medium session must not read as "Loading Medium" on every Standard cut.
    const route = await routedEngine(engine);
    const model = await modelStep(route, report);
    const { spec, session, notice } = await sessionFor(engine, modelSource, model.report, timings, signal, { route });
    lap('model');
    model.done(spec.name, timings.model);
    report({ stage: Stage.REMOVING_BACKGROUND, engine: spec.name });
    const { tensor, shape } = await tensorFor(image, spec.name);
    lap('prepare');
    // Heartbeats only while the model runs (it gives no progress of its own);
    // a stalled download sends none, and the job's deadline bounds a hung run.
    const heartbeat = setInterval(() => report({ stage: Stage.HEARTBEAT }), HEARTBEAT_MS);
    let output;
    try {
      output = await run(session, spec, tensor, shape);
    } catch (err) {
      if (session.runtime?.backend.webgpu) refuseGpu(); // the next int8 job runs its own graph on wasm
      await dropSession(spec.name); // a broken session is rebuilt next time
      throw new Error(t('errorModelRun', err.message || err));
    } finally {
      clearInterval(heartbeat);
    }
    lap('inference');
    report({ stage: Stage.ENCODING });
    const done = await finish(image, output, spec.name, options);
    lap('finish');
    Object.assign(timings, done.timings); // postprocess, encode: the two halves of finish
    // The warm figure: only a cut that waited for neither Python nor a model says what the next one takes.
    if (!booted && model.warm) keepRun(spec.name, performance.now() - runStart);
    // the result's size (cropped or not); the raw output stays for the refine editor (refine_store.js)
    return { done, spec, notice, width: done.width, height: done.height, output };
  } finally {
    image.release();
  }
}

/** Messages and the result store cap text; a long error is cut, never dropped. */
const clip = (text, max = 2000) => (text && text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The editor's Done for a job's result: its bytes change under the same id (Save, Copy and the
 * guarded frame read the new ones); the page hears of it over its job port (with the bytes only
 * for an image it could read), a guarded image's frame by a runtime message.
 */
function refined(resultId, { data, mime, width, height, filename }, channel, guarded) {
  const kept = replaceResult(resultId, { data, mime });
  const info = { resultId, mime, width, height, filename };
  if (channel && !channel.closed) {
    if (!guarded) channel.postBytes(Type.RESULT, data);
    channel.post(Type.REFINED, info);
  }
  if (guarded) chrome.runtime.sendMessage(message(Target.FRAME, Type.REFINED, info)).catch(() => {});
  return kept && !channel?.closed; // false: the page (or the cut-out) is gone, nobody sees it
}

/**
 * One CUT. Its recipe for the refine editor (refine_store.js) lives as long as its result,
 * unless `ownsRecipe` (the batch), whose caller drops it (dropRecipe) and sets its onRefined.
 */
async function cut(data, { ownsRecipe = false } = {}) {
  const { jobId, source, name } = data;
  const channel = source.kind === 'page' ? await claimPort(jobId, source) : null;
  const report = (d) => {
    const p = { jobId, ...d };
    broadcast(p);
    channel?.post(Type.STATUS, p);
  };
  try {
    // The user's picture for the 'image' output, read here (no bytes travel in messages); the recipe keeps it.
    data = { ...data, options: await withBackgroundImage(data.options) };
    // The image is read before the job joins the queue: a server that never
    // answers holds up only its own job, and only until its time limits.
    const timings = {}; // milliseconds per step, reported with the result (bench/ reads them)
    const t0 = performance.now();
    wake(data); // while the image is read
    report({ stage: Stage.FETCHING_IMAGE });
    const { bytes, guarded } = await readSource(source, channel);
    timings.fetch = performance.now() - t0;
    const made = await queue.add(
      (signal) => runCut(data, bytes, channel, report, timings, signal),
      (position) => report({ stage: Stage.QUEUED, position }), // only with a job ahead (JobQueue)
    );
    // Delivery happens outside the queue: a slow page holds up nobody.
    const filename = cutoutFilename(name || source.url, made.done.mime);
    const tabId = source.tabId ?? null;
    const resultId = addResult({
      data: made.done.data, mime: made.done.mime, filename, tabId, onRelease: ownsRecipe ? undefined : () => dropRecipe(resultId),
    });
    // Only what the job already held: its source bytes and the model's raw output.
    addRecipe(resultId, {
      source: bytes, options: data.options, output: made.output, engine: made.spec.name, modelSource: data.modelSource,
      guarded, tabId, filename, mime: made.done.mime, onRefined: (done) => refined(resultId, done, channel, guarded),
    });
    const answer = {
      resultId,
      mime: made.done.mime,
      width: made.width,
      height: made.height,
      engine: made.spec.name,
      notice: clip(made.notice),
      guarded,
      filename,
      check: made.done.check, // how likely it needs a fix, and whether to check it first
      flag: made.done.flag,
    };
    let shown = null;
    if (channel) {
      // The page keeps its port open while it offers Save; when it closes it, the result goes.
      // An event page is kept awake meanwhile (up to HELD_MS): its memory holds the result.
      const letGo = holdAwake(HELD_MS);
      channel.onClose = () => {
        releaseResult(resultId);
        letGo();
        rest.changed(); // the last result a page offered may be gone: the engine may leave
      };
      if (!guarded) channel.postBytes(Type.RESULT, made.done.data);
      channel.post(Type.DONE, answer);
      const t1 = performance.now();
      shown = await channel.shown(SHOWN_MS);
      timings.shown = performance.now() - t1;
      if (channel.closed) channel.onClose();
    }
    return {
      ok: true,
      ...answer,
      url: source.kind === 'blob' ? resultUrl(resultId).url : undefined,
      shown,
      timings,
      backend: await backendInfo(),
    };
  } catch (err) {
    channel?.post(Type.FAILED, { error: clip(String(err?.message || err)) });
    throw err;
  }
}

async function modelStatus() {
  const catalogue = await loadCatalogue();
  const engines = {};
  for (const [name, spec] of Object.entries(catalogue.engines)) {
    const state = spec.bundled ? { cached: true } : await modelState(spec);
    engines[name] = { ...state, bundled: spec.bundled, bytes: spec.bytes, title: spec.title, ...downloadState(name) };
  }
  return { ok: true, engines };
}

async function deleteModels({ engines }) {
  const catalogue = await loadCatalogue();
  for (const name of engines || Object.keys(catalogue.engines)) {
    if (catalogue.engines[name]?.bundled) continue;
    await dropSession(name);
    await deleteModel(name);
    clearFailure(name); // a deleted model is simply absent: a stale failure would keep cuts on the fallback
  }
  if (!engines) {
    await pruneModels(Object.keys(catalogue.engines)); // "delete all" means all
    // Python's start-up snapshot too ("Storage used" counts it): the next boot makes it again.
    await dropSnapshot().catch(() => {});
  }
  return { ok: true };
}

const handlers = {
  [Type.CUT]: (data) => keepingAwake(() => cut(data)),
  [Type.RESULT_URL]: (data, sender) => ({ ok: true, ...resultUrl(data.resultId, data.tabId ?? sender.tab?.id ?? null) }),
  [Type.RELEASE]: (data) => {
    releaseResult(data.resultId);
    return { ok: true };
  },
  [Type.MODEL_STATUS]: modelStatus,
  [Type.DOWNLOAD_MODEL]: (data) => keepingAwake(() => downloadModel(data)), // on purpose: Download now, Retry
  [Type.PING]: () => ({ ok: true }),
  // Counted as work (handle's working()): the engine is awake, and rests again if no job comes.
  [Type.WAKE]: (data) => {
    wake(data);
    return { ok: true };
  },
  // For tests and benchmarks: how the engine rests, and shorter rests.
  [Type.REST]: (data) => {
    if (data.shortMs !== undefined || data.longMs !== undefined) rest.setTimes(data);
    return { ok: true, ...rest.state(), python: pythonLive(), runtime: runtimeLive(), heap: pythonHeapBytes(), boot: pythonBoot() };
  },
  [Type.DELETE_MODELS]: (data) => queue.add(() => deleteModels(data)),
};
// The popup's batch lives here, so that closing the popup loses nothing.
const batch = createBatch({
  cut: (data) => working(() => keepingAwake(() => cut(data, { ownsRecipe: true }))),
  holdAwake,
  emptied: () => rest.changed(), // nothing of the batch held any more: the long rest may start
});
Object.assign(handlers, batch.handlers);

const QUESTIONS = new Set([Type.PING, Type.REST]);

/** Extension pages only: the service worker, the popup, options, our own frames. */
function fromExtensionPage(sender) {
  return sender.id === chrome.runtime.id && typeof sender.url === 'string' && sender.url.startsWith(`${location.origin}/`);
}

/**
 * One request to the engine -> its answer ({ok: false, error} on failure); null when
 * the message is not for the engine.
 * @param {unknown} m
 * @param {chrome.runtime.MessageSender} sender
 * @returns {Promise<any> | null}
 */
function handle(m, sender) {
  const msg = parse(m, Target.OFFSCREEN);
  const handler = msg && handlers[msg.type];
  if (!handler) return null;
  // Asked to close: the caller sends again to a new document (offscreen_client.js).
  if (rest.closing()) return Promise.resolve({ ok: false, closing: true, error: t('errorEngineNotStarted') });
  const answer = () => languageLoaded.then(() => handler(msg.data, sender));
  // Questions about the engine itself are not work: asking them must not keep it from resting.
  return (QUESTIONS.has(msg.type) ? answer() : working(answer)).catch((err) => ({ ok: false, error: String(err?.message || err) }));
}

chrome.runtime.onMessage.addListener((m, sender, sendResponse) => {
  if (!fromExtensionPage(sender)) return false;
  const answer = handle(m, sender);
  if (!answer) return false;
  answer.then(sendResponse);
  return true; // answer asynchronously
});

// The router in the same event page (Firefox) calls the engine directly: a page
// does not hear its own runtime messages.
if (IN_EVENT_PAGE) globalThis.BackgroneEngine = { handle: (m) => handle(m, { id: chrome.runtime.id }) };

/** A re-detect: the recipe's own engine on one input, in the queue like any job (EDIT_PROGRESS hears its stages). */
function redetectModel(recipe, tensor, shape, report) {
  return queue.add(
    async (signal) => {
      // Exact: the recipe's own graph, never the GPU's float stand-in (its output must match the recipe's).
      const { spec, session } = await sessionFor(recipe.engine, recipe.modelSource, report, null, signal, { exact: true });
      if (spec.name !== recipe.engine) throw new Error(t('engineEditOtherModel', t(`engineName_${recipe.engine}`)));
      report({ stage: Stage.REMOVING_BACKGROUND });
      try {
        return await run(session, spec, tensor, shape);
      } catch (err) {
        await dropSession(spec.name); // a broken session is rebuilt next time
        throw new Error(t('errorModelRun', err.message || err));
      }
    },
    () => report({ stage: Stage.QUEUED }),
  );
}
/** An editor's session keeps the engine warm (its next stroke must not wait for a boot) while it holds it awake. */
function holdWarm(ms) {
  const letGo = [holdAwake(ms), rest.keepWarm()];
  const timer = setTimeout(() => letGo[1](), ms);
  return () => {
    clearTimeout(timer);
    letGo.forEach((go) => go());
  };
}
const edits = createEditSessions({
  fromExtensionPage, runModel: redetectModel, keepingAwake: (work) => working(() => keepingAwake(work)), holdAwake: holdWarm, ready: languageLoaded,
});

chrome.runtime.onConnect.addListener((port) => {
  if (port.sender?.id !== chrome.runtime.id) return port.disconnect();
  if (port.name.startsWith(`${EDIT_PORT}:`)) return edits.accept(port);
  if (port.name === BATCH_PORT) {
    if (!fromExtensionPage(port.sender)) return port.disconnect();
    port.onDisconnect.addListener(rest.keepWarm()); // an open popup's next drop must not wait for a boot
    return batch.watch(port);
  }
  acceptPort(port);
});

// Warm up Python and onnxruntime while the first request is on its way; not in an event page,
// which wakes for every menu click and save (a job boots them when it needs them).
// With a hardware GPU the runtime a job needs depends on its engine (gpu_route.js: an int8 job
// without Medium stored runs on wasm, not in the WebGPU runtime): its wake starts that one.
if (!IN_EVENT_PAGE) {
  loadPython().catch((err) => console.error('Python failed to load', err));
  hardwareGpu().then((gpu) => {
    if (!gpu) warmRuntime();
  });
}
// Storage held by engines an earlier version offered (and this catalogue no longer lists) is freed.
loadCatalogue()
  .then((catalogue) => pruneModels(Object.keys(catalogue.engines)))
  .catch((err) => console.error('could not prune old models', err));
