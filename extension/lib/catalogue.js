// The model catalogue shipped in the package (models/catalogue.json), plus
// which engines the build bundled (models/bundled.json).
import './i18n.js';
import { roundedSeconds } from './device_timings.js';

const { t } = globalThis.BackgroneI18n;
// The engines in the catalogue's order and its default (tests/test_catalogue.py keeps
// both equal to models/catalogue.json: settings validate synchronously against them).
export const ENGINES = ['fast', 'standard', 'detailed', 'medium'];
export const DEFAULT_ENGINE = 'standard';

let cached = null;

export async function loadCatalogue() {
  if (!cached) {
    cached = (async () => {
      const [cat, bundled] = await Promise.all([
        fetch(chrome.runtime.getURL('models/catalogue.json')).then((r) => r.json()),
        fetch(chrome.runtime.getURL('models/bundled.json')).then((r) => r.json()),
      ]);
      for (const [name, spec] of Object.entries(cat.engines)) {
        spec.name = name;
        spec.bundled = bundled.includes(name);
      }
      return cat;
    })();
  }
  return cached;
}

/** A number in the browser's language (its decimal mark). */
const number = (x, digits) => new Intl.NumberFormat(t('localeCode').replace('_', '-'), { maximumFractionDigits: digits }).format(x);

/** "88.2 MB" in the browser's language (its decimal mark, its unit words). */
export function formatBytes(n) {
  return n >= 1e6 ? t('unitMB', number(n / 1e6, 1)) : t('unitKB', number(n / 1e3, 0));
}

/** "about 2 s here" once the engine has cut out an image on this device; '' before (no promised numbers). */
export function timeHere(engine) {
  const seconds = roundedSeconds(engine);
  if (seconds === null) return '';
  return seconds === 0 ? t('engineTimeHereUnderSecond') : t('engineTimeHere', number(seconds, 1));
}

/**
 * What an engine is for, in words: its speed and quality, its size, and how long it takes
 * here once it has run here (measured on this device: lib/device_timings.js). Whether its
 * model is on this device is said beside it (lib/model_view.js).
 * @param {{name: string, bytes: number}} spec
 */
export function engineAbout(spec) {
  return [t(`engineSummary_${spec.name}`), t('engineSize', formatBytes(spec.bytes)), timeHere(spec.name)].filter(Boolean).join(' · ');
}
