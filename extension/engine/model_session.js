// The model session a job runs with: the chosen engine's, from this device's store or
// downloaded; when that model can't be had, the nearest built-in engine's, and a notice why.
// On a hardware GPU an int8 engine's job runs the float model of the same weights there when it
// is on this device and the adapter offers what that graph needs (an fp16 graph: shader-f16;
// gpu_route.js), and says so: the job's spec is that engine's.
// Also the download a user starts on purpose ("Download now", Retry): the bytes only, stored,
// no session (which would take the place of one a user cuts with); a job meanwhile waits on
// those very bytes, and a download on purpose joins a job's download under way.
import '../lib/messages.js';
import '../lib/i18n.js';
import { formatBytes, loadCatalogue } from '../lib/catalogue.js';
import { loadModelBytes, modelState } from '../lib/model_store.js';
import { clearFailure, failureKind, failureOf, recordFailure } from '../lib/model_failures.js';
import { gpuRoute } from './gpu_route.js';
import { getSession, gpuFeatures, hasSessions, sessionPending } from './inference.js';
import { SharedTask } from './shared_task.js';

const { t } = globalThis.BackgroneI18n;
const { Stage, Target, Type, message } = globalThis.BackgroneMessages;

/** @type {Map<string, {phase: string, loaded: number, total: number}>} engine -> its download's progress, while one runs */
const downloads = new Map();
/** @type {Set<string>} engines whose model is being loaded now (downloaded or read from the store) */
const loading = new Set();
/** @type {Map<string, SharedTask<{bytes: Uint8Array, verify: () => Promise<boolean>}>>} engine -> its download on purpose, while it runs */
const deliberate = new Map();

/** Tell the extension's pages (options, popup) how a model's download goes. */
function announce(engine, data) {
  chrome.runtime.sendMessage(message(Target.UI, Type.MODEL_PROGRESS, { engine, ...data })).catch(() => {});
}

/**
 * The bytes loader getSession runs once for all the jobs waiting on it: it keeps the download's
 * progress for MODEL_STATUS, tells the pages (each whole percent, not each network read), and
 * remembers a failed download (lib/model_failures.js) until one succeeds. `forJob` false: the
 * download on purpose itself (a job's loader waits on that one instead).
 */
function loader(spec, modelSource, timings, forJob = true) {
  return async ({ signal, onProgress }) => {
    const t0 = performance.now();
    if (spec.bundled) return loadModelBytes(spec, { signal });
    const engine = spec.name;
    // A job's: a download on purpose under way is waited on (leaving it does not stop it).
    const running = forJob && deliberate.get(engine);
    if (running) return running.join({ signal, onProgress });
    let said = '';
    const hear = (p) => {
      onProgress(p);
      downloads.set(engine, { phase: p.phase, loaded: p.loaded, total: p.total });
      const now = `${p.phase}:${Math.floor((100 * p.loaded) / p.total)}`;
      if (now !== said) announce(engine, { phase: p.phase, loaded: p.loaded, total: p.total });
      said = now;
    };
    loading.add(engine);
    try {
      const loaded = await loadModelBytes(spec, { source: modelSource, signal, onProgress: hear });
      if (timings) timings.modelBytes = performance.now() - t0;
      clearFailure(engine);
      if (said) announce(engine, { phase: 'done' });
      return loaded;
    } catch (err) {
      // Every job left (their pages closed): nothing failed, the chunks stored stay for the next try.
      if (signal.aborted) announce(engine, { phase: 'stopped' });
      else {
        recordFailure(engine, err);
        announce(engine, { phase: 'failed', error: String(err?.message || err).slice(0, 500) });
      }
      throw err;
    } finally {
      loading.delete(engine);
      downloads.delete(engine);
    }
  };
}

/** The built-in engine to use when `spec`'s model can't be had: the catalogue's `fallback`, else the default. */
function fallbackFor(catalogue, spec) {
  const candidates = [spec.fallback, catalogue.default_engine, ...Object.keys(catalogue.engines)];
  return catalogue.engines[candidates.find((name) => name && name !== spec.name && catalogue.engines[name]?.bundled)];
}

// Why the model is missing (lib/model_failures.js FailureKind) -> the notice.
const NOTICE = {
  network: 'noticeModelMissing_network',
  source: 'noticeModelMissing_source',
  storage: 'noticeModelMissing_storage',
  damaged: 'noticeModelMissing_damaged',
};

/** Plain sentences: the model is not here, why, what was used instead, what to do. */
function fallbackNotice(spec, fallback, kind) {
  return t(NOTICE[kind] || NOTICE.network, t(`engineName_${spec.name}`), t(`engineName_${fallback.name}`), formatBytes(spec.bytes));
}

const isCached = (spec) => modelState(spec).then((s) => s.cached, () => false);

/** Set when a float session on the GPU could not be made or run: int8 jobs stay on wasm from then on (this document's life). */
let gpuRefused = false;

/** A run on the GPU failed (a lost device, its memory): int8 jobs go back to their own graph on wasm. */
export function refuseGpu() {
  gpuRefused = true;
}

/**
 * The engine a job for `engine` runs (gpu_route.js): on a hardware GPU that offers what its graph
 * needs, an int8 engine's float source when that model is stored here with no remembered failure
 * and no download under way.
 */
async function routed(catalogue, engine) {
  const onDevice = async (name) =>
    !failureOf(name) && !loading.has(name) && !deliberate.has(name) && (await isCached(catalogue.engines[name]));
  return (await gpuRoute(catalogue, engine, { gpu: gpuRefused ? null : await gpuFeatures(), onDevice })).engine;
}

/** The engine a job for `engine` will run (routed, as sessionFor routes it): what its progress names. */
export async function routedEngine(engine) {
  const catalogue = await loadCatalogue();
  return catalogue.engines[engine] ? routed(catalogue, engine) : engine;
}

/**
 * A session for the engine, or for the engine gpu_route.js runs in its place (its spec says
 * which; `exact`: never another graph, e.g. a re-detect of a result's own model). A model that
 * can't be had is replaced by the nearest built-in engine, with a notice; its failed download is
 * remembered, and later jobs use the built-in engine at once (no network) until a download on
 * purpose succeeds.
 * `signal` (the job's deadline, its page closed) stops the wait, and the download when no
 * other job waits on it; every job waiting on a download hears its progress. `route`: the engine
 * routedEngine gave this job already (its progress named it), so both agree.
 */
export async function sessionFor(engine, modelSource, report, timings, signal, { exact = false, route = '' } = {}) {
  const catalogue = await loadCatalogue();
  if (!catalogue.engines[engine]) throw new Error(t('errorUnknownEngine', engine));
  const chosen = engine;
  if (!exact) engine = route && catalogue.engines[route] ? route : await routed(catalogue, engine);
  if (engine !== chosen) {
    try {
      return await exactSession(catalogue, engine, modelSource, report, timings, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      // The GPU could not make its session (a driver, its memory): the chosen graph runs on wasm.
      gpuRefused = true;
      console.warn('WebGPU session failed; the int8 engine runs on wasm', err);
      engine = chosen;
    }
  }
  return exactSession(catalogue, engine, modelSource, report, timings, signal);
}

async function exactSession(catalogue, engine, modelSource, report, timings, signal) {
  const spec = catalogue.engines[engine];
  const useFallback = async (kind) => {
    const fallback = fallbackFor(catalogue, spec);
    if (!fallback) return null;
    const notice = fallbackNotice(spec, fallback, kind);
    report({ stage: Stage.LOADING_ENGINE, engine: fallback.name, notice });
    const session = await getSession(fallback, loader(fallback, modelSource, null), { signal });
    return { spec: fallback, session, notice };
  };
  // A download that failed is not tried again by every job: a download under way (Retry) is joined.
  const busy = loading.has(engine) || deliberate.has(engine) || sessionPending(engine); // even before its first byte
  const failed = !spec.bundled && !busy && failureOf(engine);
  if (failed && !(await isCached(spec))) {
    const instead = await useFallback(failed.kind);
    if (instead) return instead;
  }
  const onProgress = ({ phase, loaded, total }) =>
    report({ stage: phase === 'download' ? Stage.DOWNLOADING_MODEL : Stage.VERIFYING_MODEL, engine, loaded, total });
  try {
    report({ stage: Stage.LOADING_ENGINE, engine });
    return { spec, session: await getSession(spec, loader(spec, modelSource, timings), { signal, onProgress }), notice: null };
  } catch (err) {
    if (spec.bundled || signal.aborted || (await isCached(spec))) throw err;
    const instead = await useFallback(failureKind(err));
    if (!instead) throw err;
    return instead;
  }
}

/**
 * Start making `engine`'s session now, while Python boots and the image is read, when its model
 * is on this device (a built-in or a stored one, with no remembered failure): a job then finds it
 * made, or joins it being made. Never a download: a bad file must fail before any is started.
 */
export async function prewarmSession(engine, modelSource) {
  try {
    const catalogue = await loadCatalogue();
    if (!catalogue.engines[engine]) return;
    engine = await routed(catalogue, engine); // the graph the job will run
    const spec = catalogue.engines[engine];
    // Only an engine with no session at all (a start, a rest): one session is kept, and a job of
    // another engine may be between its session and its run.
    if (hasSessions() || loading.has(engine) || deliberate.has(engine)) return;
    if (!spec.bundled && (failureOf(engine) || !(await isCached(spec)))) return;
    await getSession(spec, loader(spec, modelSource, null));
  } catch {
    // The job's own wait for the session says what went wrong.
  }
}

/**
 * Download `engine`'s model on purpose ("Download now", Retry in options or popup), with
 * MODEL_PROGRESS for the pages: into the store only, no session (with two kept, an 88 MB
 * one could push out the session a user cuts with). A job's download under way is joined;
 * a job that asks for the engine meanwhile waits on this very download, and this one is not
 * stopped when such a job leaves.
 * @param {{engine: string, modelSource: string}} data
 */
export async function downloadModel({ engine, modelSource }) {
  const catalogue = await loadCatalogue();
  const spec = catalogue.engines[engine];
  if (!spec) throw new Error(t('errorUnknownEngine', engine));
  if (spec.bundled) return { ok: true };
  if (sessionPending(engine)) {
    await getSession(spec, loader(spec, modelSource, null)); // joins it (no new session: the loader goes unused)
    return { ok: true };
  }
  let task = deliberate.get(engine);
  if (!task) {
    const made = new SharedTask((signal, onProgress) => loader(spec, modelSource, null, false)({ signal, onProgress }));
    deliberate.set(engine, made);
    made.promise.catch(() => {}).finally(() => deliberate.delete(engine));
    task = made;
  }
  await task.join(); // no signal: only the download itself ends it
  return { ok: true };
}

/**
 * What MODEL_STATUS adds for an engine: its remembered failure, its download under way.
 * @param {string} engine
 */
export function downloadState(engine) {
  const failed = failureOf(engine);
  const downloading = downloads.get(engine);
  return { ...(failed && { failed }), ...(downloading && { downloading }) };
}
