// The model session a job runs with: the chosen engine's, from this device's store or
// downloaded; when that model can't be had, a built-in engine's, and a notice why.
import '../lib/messages.js';
import '../lib/i18n.js';
import { loadCatalogue } from '../lib/catalogue.js';
import { loadModelBytes, modelState } from '../lib/model_store.js';
import { getSession } from './inference.js';

const { t } = globalThis.BackgroneI18n;
const { Stage } = globalThis.BackgroneMessages;
const FALLBACK_ENGINE = 'fast';

/**
 * A session for the engine; on a model that can't be had, fall back to `fast` and say why.
 * `signal` (the job's deadline, its page closed) stops the wait, and the download when no
 * other job waits on it; every job waiting on a download hears its progress.
 */
export async function sessionFor(engine, modelSource, report, timings, signal) {
  const catalogue = await loadCatalogue();
  const spec = catalogue.engines[engine];
  if (!spec) throw new Error(t('errorUnknownEngine', engine));
  const load = async ({ signal: stop, onProgress }) => {
    const t0 = performance.now();
    const loaded = await loadModelBytes(spec, { source: modelSource, signal: stop, onProgress });
    timings.modelBytes = performance.now() - t0;
    return loaded;
  };
  const onProgress = ({ phase, loaded, total }) =>
    report({ stage: phase === 'download' ? Stage.DOWNLOADING_MODEL : Stage.VERIFYING_MODEL, engine, loaded, total });
  try {
    report({ stage: Stage.LOADING_ENGINE, engine });
    return { spec, session: await getSession(spec, load, { signal, onProgress }), notice: null };
  } catch (err) {
    if (engine === FALLBACK_ENGINE || signal.aborted) throw err;
    const state = await modelState(spec).catch(() => ({ cached: false }));
    if (state.cached) throw err;
    const fallback = catalogue.engines[FALLBACK_ENGINE];
    const notice = t('noticeFallback', t(`engineName_${engine}`), err.message, t(`engineName_${FALLBACK_ENGINE}`));
    report({ stage: Stage.LOADING_ENGINE, engine: FALLBACK_ENGINE, notice });
    const session = await getSession(fallback, ({ signal: stop }) => loadModelBytes(fallback, { signal: stop }), { signal });
    return { spec: fallback, session, notice };
  }
}
