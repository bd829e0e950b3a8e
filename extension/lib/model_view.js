// Where each engine's model is, as options and popup show it: built in, on this device,
// not downloaded yet (Download now), downloading (a bar), or failed (a sentence and Retry).
// The engine says it (MODEL_STATUS, then MODEL_PROGRESS while a download runs); a download
// on purpose is asked of the engine, which shares it with any cut that needs the model.
import './messages.js';
import './i18n.js';
import { formatBytes, loadCatalogue } from './catalogue.js';
import { callEngine } from './offscreen_client.js';
import { loadSettings } from './settings.js';

const { Target, Type, parse } = globalThis.BackgroneMessages;
const { t } = globalThis.BackgroneI18n;

/** The states a model can be in, as pages show them (and tests read them: data-model). */
export const ModelState = Object.freeze({
  builtIn: 'built-in',
  onDevice: 'on-device',
  absent: 'absent',
  downloading: 'downloading',
  failed: 'failed',
});

// Why a download failed (lib/model_failures.js FailureKind) -> what to do, in a sentence.
const FAILED_SENTENCE = {
  network: 'modelFailed_network',
  source: 'modelFailed_source',
  storage: 'modelFailed_storage',
  damaged: 'modelFailed_damaged',
};

const ENDED = ['done', 'failed', 'stopped'];

/** A fraction as the language writes a percentage ("37%", "37 %"). */
function percent(fraction) {
  const locale = t('localeCode').replace('_', '-');
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(Math.min(1, Math.max(0, fraction)));
}

/**
 * What to show for an engine's model. Pure.
 * @param {{name: string, bytes: number, bundled: boolean}} spec
 * @param {{cached?: boolean, failed?: {kind: string}, downloading?: {phase: string, loaded: number, total: number}} | undefined} info from MODEL_STATUS
 * @param {{phase: string, loaded?: number, total?: number} | undefined} live the latest MODEL_PROGRESS
 * @param {string} fallbackName the built-in engine used meanwhile, in words
 * @returns {{state: string, text: string, sentence?: string, fraction?: number, action?: 'download' | 'retry' | 'delete'}}
 */
export function modelView(spec, info, live, fallbackName) {
  if (spec.bundled) return { state: ModelState.builtIn, text: t('modelBuiltIn') };
  const progress = live && !ENDED.includes(live.phase) ? live : info?.downloading;
  if (progress && !ENDED.includes(progress.phase)) {
    const fraction = progress.total ? progress.loaded / progress.total : 0;
    const text = progress.phase === 'verify' ? t('modelChecking') : t('modelDownloading', percent(fraction));
    return { state: ModelState.downloading, text, fraction };
  }
  if (info?.cached) return { state: ModelState.onDevice, text: t('modelOnDevice'), action: 'delete' };
  if (info?.failed) {
    const key = FAILED_SENTENCE[info.failed.kind] || FAILED_SENTENCE.network;
    return { state: ModelState.failed, text: t('modelFailed'), sentence: t(key, fallbackName, t(`engineName_${spec.name}`), formatBytes(spec.bytes)), action: 'retry' };
  }
  return { state: ModelState.absent, text: t('modelAbsent'), action: 'download' };
}

/**
 * Keeps what the engine says about every model, and calls `onChange` whenever it changes.
 * @param {() => void} onChange
 */
export async function watchModels(onChange) {
  const catalogue = await loadCatalogue();
  /** @type {any} */
  let status = { engines: {} };
  /** @type {Record<string, any>} */
  const live = {};
  const refresh = async () => {
    status = await callEngine(Type.MODEL_STATUS, {});
    onChange();
  };
  chrome.runtime.onMessage.addListener((m) => {
    const msg = parse(m, Target.UI);
    if (msg?.type !== Type.MODEL_PROGRESS) return false;
    const { engine, phase } = msg.data;
    live[engine] = msg.data;
    if (ENDED.includes(phase)) {
      delete live[engine];
      refresh().catch(() => {});
    } else onChange();
    return false;
  });
  const fallbackName = (spec) => {
    const name = spec.fallback || catalogue.default_engine;
    return t(`engineName_${name}`);
  };
  return {
    catalogue,
    refresh,
    /** The engines' raw status (MODEL_STATUS). */
    get status() {
      return status;
    },
    /** @param {string} engine */
    view: (engine) => {
      const spec = catalogue.engines[engine];
      return modelView(spec, status.engines?.[engine], live[engine], fallbackName(spec));
    },
    /**
     * Download `engine`'s model now (or again); its progress arrives as MODEL_PROGRESS.
     * Resolves when it is over, either way: a failure is shown from the engine's status.
     * @param {string} engine
     */
    download: async (engine) => {
      live[engine] = { engine, phase: 'download', loaded: 0, total: catalogue.engines[engine].bytes };
      onChange();
      const { modelSource } = await loadSettings();
      await callEngine(Type.DOWNLOAD_MODEL, { engine, modelSource }).catch(() => {});
      delete live[engine];
      await refresh();
    },
  };
}

/**
 * Fills `el`'s parts for `engine` from the view: .model-state (words), progress.model-progress,
 * .model-problem (the failure's sentence), button.model-action (Download now, Retry). The
 * element carries data-model=<state> (tests and CSS read it).
 * @param {HTMLElement} el
 * @param {{name: string, bytes: number}} spec
 * @param {ReturnType<typeof modelView>} view
 * @returns {boolean} true when the focused button went away (the caller puts the focus somewhere near)
 */
export function showModel(el, spec, view) {
  const name = t(`engineName_${spec.name}`);
  el.dataset.model = view.state;
  const state = /** @type {HTMLElement} */ (el.querySelector('.model-state'));
  state.textContent = view.text;
  const bar = /** @type {HTMLProgressElement} */ (el.querySelector('.model-progress'));
  bar.hidden = view.state !== ModelState.downloading;
  bar.value = Math.round((view.fraction || 0) * 100);
  bar.setAttribute('aria-label', t('modelProgressLabel', name));
  const problem = /** @type {HTMLElement} */ (el.querySelector('.model-problem'));
  problem.hidden = !view.sentence;
  problem.textContent = view.sentence || '';
  const action = /** @type {HTMLButtonElement} */ (el.querySelector('.model-action'));
  const act = view.action === 'download' || view.action === 'retry' ? view.action : null;
  const hadFocus = document.activeElement === action;
  action.hidden = !act;
  if (act) {
    action.dataset.action = act;
    action.textContent = t(act === 'retry' ? 'buttonRetry' : 'buttonDownloadNow');
    action.setAttribute('aria-label', act === 'retry' ? t('modelRetryLabel', name) : t('modelDownloadLabel', name, formatBytes(spec.bytes)));
  }
  return hadFocus && !act;
}
