// The model catalogue shipped in the package (models/catalogue.json), plus
// which engines the build bundled (models/bundled.json).
import './i18n.js';

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

/** "88.2 MB" in the browser's language (its decimal mark, its unit words). */
export function formatBytes(n) {
  const number = (x, digits) => new Intl.NumberFormat(t('localeCode').replace('_', '-'), { maximumFractionDigits: digits }).format(x);
  return n >= 1e6 ? t('unitMB', number(n / 1e6, 1)) : t('unitKB', number(n / 1e3, 0));
}

/**
 * What an engine is for, in words: its speed and quality, its size, and
 * whether it is on this device already (`state` from the engine's MODEL_STATUS, when known).
 * @param {{name: string, bytes: number, bundled: boolean}} spec
 * @param {{cached?: boolean} | undefined | null} state
 * @param {{where?: boolean}} [options] where: false leaves out whether it is on this device (said beside it)
 */
export function engineAbout(spec, state, { where: say = true } = {}) {
  const where = !say ? '' : spec.bundled ? t('engineBuiltIn') : state?.cached ? t('engineDownloaded') : state ? t('engineNotDownloaded') : '';
  return [t(`engineSummary_${spec.name}`), t('engineSize', formatBytes(spec.bytes)), where].filter(Boolean).join(' · ');
}
