// A job's cold steps, said and timed: Python's boot and a model's load from this device
// are reported with what they usually take here (lib/device_timings.js), so that the
// overlay and the popup fill a bar toward it instead of naming a step that is long over;
// their times, and those of runs with neither (the figure a user sees from the second
// cut on), are kept for the next time and for the engine choice's "about N s here".
import '../lib/messages.js';
import { loadCatalogue } from '../lib/catalogue.js';
import { TimingKey, expectedMs, recordTiming } from '../lib/device_timings.js';
import { modelState } from '../lib/model_store.js';
import { sessionReady } from './inference.js';
import { bootElapsedMs, loadPython, pythonLoaded } from './python.js';

const { Stage } = globalThis.BackgroneMessages;

/** An estimate for a progress message: a positive number, or nothing when none is known. */
const estimate = (ms) => (ms === null ? undefined : Math.max(1, Math.round(ms)));

/**
 * Python, up. A job that has to wait for its boot (the first one after the browser starts,
 * or after Firefox's event page slept) first says STARTING_ENGINE, with what is left of the
 * boot's usual time here: the offscreen document starts its boot before the job arrives.
 * @param {string} engine the job's engine (so that a page can add the model's usual time)
 * @param {(p: object) => void} report
 * @returns {Promise<boolean>} true when the job waited for the boot
 */
export async function readyPython(engine, report) {
  if (pythonLoaded()) return false;
  const usual = expectedMs(TimingKey.boot);
  report({ stage: Stage.STARTING_ENGINE, engine, expectedMs: estimate(usual === null ? null : usual - bootElapsedMs()) });
  await loadPython();
  return true;
}

/**
 * The model's step of a job, around sessionFor: `report` passes its progress on, with the
 * load's usual time when the model comes from this device (a download has its own bytes to
 * show), and without a word when the session is already made (nothing is loaded: saying
 * "loading" would only flash). `done` keeps the time of a plain load from this device.
 * @param {string} engine
 * @param {(p: object) => void} report
 */
export async function modelStep(engine, report) {
  const warm = sessionReady(engine);
  const spec = warm ? null : (await loadCatalogue()).engines[engine];
  const fromDevice = !!spec && (spec.bundled || (await modelState(spec).catch(() => ({ cached: false }))).cached);
  let fetched = false; // a download or a check of fresh bytes: not a plain load
  return {
    warm,
    /** @param {{stage: string, engine?: string, notice?: string, expectedMs?: number}} p */
    report(p) {
      if (p.stage === Stage.LOADING_ENGINE && !p.notice) {
        if (warm && p.engine === engine) return;
        if (fromDevice && p.engine === engine) p = { ...p, expectedMs: estimate(expectedMs(TimingKey.load(engine))) };
      }
      if (p.stage === Stage.DOWNLOADING_MODEL || p.stage === Stage.VERIFYING_MODEL) fetched = true;
      report(p);
    },
    /** The session is there, `ms` after the step began, for `used` (the engine, or a fallback). */
    done(used, ms) {
      if (!warm && fromDevice && !fetched && used === engine) recordTiming(TimingKey.load(engine), ms);
    },
  };
}

/** A cut with a ready engine (no boot, no load), decode to encoded result: the warm figure. */
export function keepRun(engine, ms) {
  recordTiming(TimingKey.run(engine), ms);
}
