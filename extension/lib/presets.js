// The named output presets shipped in the package (models/presets.json, the very file the
// CLI's --preset reads): a canvas, the subject's share of it, its position, and the background
// and shadow they suggest. settings.js maps the chosen one to the pipeline's options.
import './i18n.js';

const { t } = globalThis.BackgroneI18n;

// Each preset's name in the user's language (tests/js/presets.test.mjs keeps this in step with
// models/presets.json); a preset without words here shows its file's English title.
const TITLE_KEYS = {
  'marketplace-white-square': 'layersPresetMarketplace2000',
  'marketplace-white-square-1600': 'layersPresetMarketplace1600',
  'portrait-4x5-shadow': 'layersPresetPortrait',
  'landscape-3x2': 'layersPresetLandscape',
  'wide-16x9-transparent': 'layersPresetWide',
};

/** @typedef {{title: string, options: Record<string, any>}} Preset */

/**
 * Name -> preset from the file's JSON, as py/backgrone/presets.py load_presets checks it:
 * anything else is a broken package and throws.
 * @returns {Record<string, Preset>}
 */
export function parsePresets(raw) {
  const presets = raw?.presets;
  const valid = (p) => p && typeof p === 'object' && typeof p.title === 'string' && p.options && typeof p.options === 'object';
  if (!presets || typeof presets !== 'object' || Array.isArray(presets) || !Object.values(presets).every(valid)) {
    throw new Error('presets.json'); // a broken package: {"presets": {name: {"title", "options"}}} expected
  }
  return presets;
}

/** @type {Promise<Record<string, Preset>> | null} */
let loading = null;
/** @type {Record<string, Preset> | null} */
let loaded = null;

/**
 * The package's presets, read once. A package without a readable file offers none (a
 * setting that names one is then refused in words, see settings.js), rather than failing
 * every other setting with it.
 */
export function loadPresets() {
  loading ??= fetch(chrome.runtime.getURL('models/presets.json'))
    .then((r) => r.json())
    .then(parsePresets)
    .catch((err) => {
      console.warn('Backgrone: no presets', err);
      return {};
    })
    .then((presets) => (loaded = presets));
  return loading;
}

/** The presets once loadPresets() has read them (loadSettings waits for that), else none. */
export function loadedPresets() {
  return loaded || {};
}

/** A preset's name as the user reads it. */
export function presetTitle(name, preset) {
  return Object.hasOwn(TITLE_KEYS, name) ? t(TITLE_KEYS[name]) : preset.title;
}

/** A named preset's canvas in words: "2000 × 2000 px, the subject 85% of it, centred". */
export function presetLayout(preset) {
  const { canvas, fill = 0.85, position = 'center' } = preset?.options || {};
  if (!canvas) return '';
  return t(position === 'bottom' ? 'layersPresetAboutBottom' : 'layersPresetAboutCenter', canvas[0], canvas[1], Math.round(fill * 100));
}

/** The names that have words in the locales (for the test that keeps them in step). */
export const TITLED = Object.keys(TITLE_KEYS);
